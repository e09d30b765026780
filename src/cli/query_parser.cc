// Lexer and Pratt parser for the `--query` language.
//
// The parser follows the reference implementation (jmespath.py): each token
// has a binding power, and a projection ([*], [], [?...], .*) parses what
// follows it at the projection's binding power, so `.b[0]` after `a[*]` binds
// to each element while a pipe (binding power below kProjectionStop) ends it.
#include "cli/query_parser.h"

#include <algorithm>
#include <charconv>
#include <concepts>
#include <utility>

namespace lote::cli::query {
namespace {

using json = nlohmann::ordered_json;

// ---------------------------------------------------------------- tokens

enum class Tok {
  kEof,
  kIdentifier,
  kQuotedIdentifier,
  kLiteral,
  kNumber,
  kCurrent,
  kDot,
  kStar,
  kFlatten,
  kFilter,
  kLbracket,
  kRbracket,
  kLbrace,
  kRbrace,
  kLparen,
  kRparen,
  kComma,
  kColon,
  kPipe,
  kOr,
  kAnd,
  kNot,
  kEq,
  kNe,
  kLt,
  kLte,
  kGt,
  kGte,
};

struct Token {
  Tok type = Tok::kEof;
  size_t pos = 0;         // byte offset into the expression
  std::string_view text;  // the token's source text
  std::string name;       // an identifier's name
  json value;             // a literal's value
  int64_t number = 0;     // a number's value
};

int BindingPower(Tok type) {
  switch (type) {
    case Tok::kPipe: return 1;
    case Tok::kOr: return 2;
    case Tok::kAnd: return 3;
    case Tok::kEq:
    case Tok::kNe:
    case Tok::kLt:
    case Tok::kLte:
    case Tok::kGt:
    case Tok::kGte: return 5;
    case Tok::kFlatten: return 9;
    case Tok::kStar: return 20;
    case Tok::kFilter: return 21;
    case Tok::kDot: return 40;
    case Tok::kNot: return 45;
    case Tok::kLbrace: return 50;
    case Tok::kLbracket: return 55;
    case Tok::kLparen: return 60;
    default: return 0;
  }
}

// Tokens binding less tightly than this end a projection's right-hand side.
constexpr int kProjectionStop = 10;

Error SyntaxError(std::string_view expression, size_t pos, std::string_view detail) {
  // Count characters, not bytes, so the position is right for UTF-8 input.
  size_t column = 1;
  for (size_t i = 0; i < pos && i < expression.size(); ++i) {
    if ((static_cast<unsigned char>(expression[i]) & 0xC0) != 0x80) ++column;
  }
  return InvalidArgument("invalid query \"" + std::string(expression) +
                         "\": syntax error at character " + std::to_string(column) + ": " +
                         std::string(detail));
}

// ---------------------------------------------------------------- lexer

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || IsDigit(c);
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Length of the quoted token starting at expr[start] (quotes included); a
// backslash escapes the next character.
Result<size_t> QuotedLength(std::string_view expr, size_t start, std::string_view what) {
  const char quote = expr[start];
  for (size_t i = start + 1; i < expr.size(); ++i) {
    if (expr[i] == '\\') {
      ++i;
    } else if (expr[i] == quote) {
      return i - start + 1;
    }
  }
  return SyntaxError(expr, start, "unterminated " + std::string(what));
}

// Raw string literal body: \' is a quote and \\ a backslash; other
// backslashes are kept as they are.
std::string UnescapeRawString(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size() && (body[i + 1] == '\'' || body[i + 1] == '\\')) ++i;
    out += body[i];
  }
  return out;
}

// Reads the literal, identifier or number starting at expr[i] into tok;
// returns its length.
Result<size_t> LexValue(std::string_view expr, size_t i, Token& tok) {
  const char c = expr[i];
  size_t len = 1;
  if (IsIdentStart(c)) {
    while (i + len < expr.size() && IsIdentChar(expr[i + len])) ++len;
    tok.type = Tok::kIdentifier;
    tok.name = std::string(expr.substr(i, len));
  } else if (c == '-' || IsDigit(c)) {
    while (i + len < expr.size() && IsDigit(expr[i + len])) ++len;
    const char* end = expr.data() + i + len;
    auto [ptr, ec] = std::from_chars(expr.data() + i, end, tok.number);
    if (ec != std::errc() || ptr != end) return SyntaxError(expr, i, "number out of range");
    tok.type = Tok::kNumber;
  } else if (c == '"') {
    LOTE_ASSIGN_OR_RETURN(len, QuotedLength(expr, i, "quoted identifier"));
    json name = json::parse(expr.substr(i, len), nullptr, /*allow_exceptions=*/false);
    if (!name.is_string()) return SyntaxError(expr, i, "invalid quoted identifier");
    tok.type = Tok::kQuotedIdentifier;
    tok.name = name.get<std::string>();
  } else if (c == '\'') {
    LOTE_ASSIGN_OR_RETURN(len, QuotedLength(expr, i, "raw string literal"));
    tok.type = Tok::kLiteral;
    tok.value = UnescapeRawString(expr.substr(i + 1, len - 2));
  } else {  // '`'
    LOTE_ASSIGN_OR_RETURN(len, QuotedLength(expr, i, "JSON literal"));
    std::string body(expr.substr(i + 1, len - 2));
    for (size_t at = 0; (at = body.find("\\`", at)) != std::string::npos; ++at) body.erase(at, 1);
    tok.value = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (tok.value.is_discarded()) {
      // Like jmespath.py, read a bare word (`foo`) as the deprecated string form.
      const size_t first = body.find_first_not_of(" \t\r\n");
      tok.value = json::parse("\"" + body.substr(std::min(first, body.size())) + "\"", nullptr,
                              /*allow_exceptions=*/false);
      if (tok.value.is_discarded()) return SyntaxError(expr, i, "invalid JSON literal");
    }
    tok.type = Tok::kLiteral;
  }
  return len;
}

Result<std::vector<Token>> Tokenize(std::string_view expr) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < expr.size() && IsSpace(expr[i])) ++i;
    Token tok;
    tok.pos = i;
    if (i == expr.size()) {
      tokens.push_back(std::move(tok));
      return tokens;
    }
    const char c = expr[i];
    const char next = i + 1 < expr.size() ? expr[i + 1] : '\0';
    size_t len = 1;
    auto pick = [&](char second, Tok two, Tok one) {
      if (next == second) len = 2;
      return next == second ? two : one;
    };
    switch (c) {
      case '.': tok.type = Tok::kDot; break;
      case '*': tok.type = Tok::kStar; break;
      case ',': tok.type = Tok::kComma; break;
      case ':': tok.type = Tok::kColon; break;
      case '@': tok.type = Tok::kCurrent; break;
      case '(': tok.type = Tok::kLparen; break;
      case ')': tok.type = Tok::kRparen; break;
      case '{': tok.type = Tok::kLbrace; break;
      case '}': tok.type = Tok::kRbrace; break;
      case ']': tok.type = Tok::kRbracket; break;
      case '[':
        tok.type = next == '?' ? Tok::kFilter : pick(']', Tok::kFlatten, Tok::kLbracket);
        if (next == '?') len = 2;  // `[?` opens a filter
        break;
      case '|': tok.type = pick('|', Tok::kOr, Tok::kPipe); break;
      case '!': tok.type = pick('=', Tok::kNe, Tok::kNot); break;
      case '<': tok.type = pick('=', Tok::kLte, Tok::kLt); break;
      case '>': tok.type = pick('=', Tok::kGte, Tok::kGt); break;
      case '&':
        if (next != '&')
          return SyntaxError(expr, i, "expression references ('&') are not supported");
        tok.type = Tok::kAnd;
        len = 2;
        break;
      case '=':
        if (next != '=') return SyntaxError(expr, i, "'=' is not an operator (did you mean '=='?)");
        tok.type = Tok::kEq;
        len = 2;
        break;
      default:
        if (IsIdentStart(c) || IsDigit(c) || (c == '-' && IsDigit(next)) || c == '"' || c == '\'' ||
            c == '`') {
          LOTE_ASSIGN_OR_RETURN(len, LexValue(expr, i, tok));
          break;
        }
        // Name the whole UTF-8 character, not its first byte.
        while (i + len < expr.size() &&
               (static_cast<unsigned char>(expr[i + len]) & 0xC0) == 0x80) {
          ++len;
        }
        return SyntaxError(expr, i,
                           "unexpected character '" + std::string(expr.substr(i, len)) + "'");
    }
    tok.text = expr.substr(i, len);
    tokens.push_back(std::move(tok));
    i += len;
  }
}

// ---------------------------------------------------------------- AST helpers

CompareOp ToCompareOp(Tok type) {
  switch (type) {
    case Tok::kNe: return CompareOp::kNe;
    case Tok::kLt: return CompareOp::kLt;
    case Tok::kLte: return CompareOp::kLte;
    case Tok::kGt: return CompareOp::kGt;
    case Tok::kGte: return CompareOp::kGte;
    default: return CompareOp::kEq;
  }
}

void AddChild(Node& parent, Node child) {
  parent.depth = std::max(parent.depth, child.depth + 1);
  parent.children.push_back(std::move(child));
}

Node MakeNode(NodeKind kind, std::same_as<Node> auto... children) {
  Node node;
  node.kind = kind;
  (AddChild(node, std::move(children)), ...);
  return node;
}

// `left` then `right`, without the no-op subexpression when left is @.
Node Chain(Node left, Node right) {
  if (left.kind == NodeKind::kIdentity) return right;
  return MakeNode(NodeKind::kSubexpression, std::move(left), std::move(right));
}

// ---------------------------------------------------------------- parser

class Parser {
 public:
  Parser(std::string_view expr, std::vector<Token> tokens)
      : expr_(expr), tokens_(std::move(tokens)) {}

  Result<Node> Parse() {
    LOTE_ASSIGN_OR_RETURN(Node root, Expression(0));
    if (Current() != Tok::kEof) return Unexpected(Peek());
    return root;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  Tok Current() const { return Peek().type; }
  const Token& Advance() {
    const Token& token = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return token;
  }

  static std::string Describe(const Token& token) {
    if (token.type == Tok::kEof) return "end of expression";
    return "'" + std::string(token.text) + "'";
  }
  Error ErrorAt(const Token& token, std::string_view detail) const {
    return SyntaxError(expr_, token.pos, detail);
  }
  Error Unexpected(const Token& token) const {
    return ErrorAt(token, "unexpected " + Describe(token));
  }
  Status Match(Tok type, std::string_view what) {
    if (Current() != type) {
      return ErrorAt(Peek(), "expected " + std::string(what) + ", found " + Describe(Peek()));
    }
    Advance();
    return {};
  }

  // Parses tokens while they bind more tightly than binding_power.
  Result<Node> Expression(int binding_power) {
    // Errors end the whole parse, so depth_ is only restored on success.
    if (++depth_ > kMaxDepth) return ErrorAt(Peek(), "expression nests too deeply");
    const Token& first = Advance();
    LOTE_ASSIGN_OR_RETURN(Node left, Nud(first));
    while (binding_power < BindingPower(Current())) {
      const Token& op = Advance();
      LOTE_ASSIGN_OR_RETURN(left, Led(op, std::move(left)));
      if (left.depth > kMaxDepth) return ErrorAt(op, "expression nests too deeply");
    }
    --depth_;
    return left;
  }

  // A token at the start of an expression.
  Result<Node> Nud(const Token& token) {
    switch (token.type) {
      case Tok::kLiteral: {
        Node node = MakeNode(NodeKind::kLiteral);
        node.value = token.value;
        return node;
      }
      case Tok::kIdentifier:
      case Tok::kQuotedIdentifier: {
        Node node = MakeNode(NodeKind::kField);
        node.name = token.name;
        return node;
      }
      case Tok::kCurrent: return MakeNode(NodeKind::kIdentity);
      case Tok::kStar: {  // `*`: the values of an object
        Node right = MakeNode(NodeKind::kIdentity);
        if (Current() != Tok::kRbracket) {
          LOTE_ASSIGN_OR_RETURN(right, ProjectionRhs(BindingPower(Tok::kStar)));
        }
        return MakeNode(NodeKind::kValueProjection, MakeNode(NodeKind::kIdentity),
                        std::move(right));
      }
      case Tok::kFilter: return FilterProjection(MakeNode(NodeKind::kIdentity));
      case Tok::kFlatten: return Flatten(MakeNode(NodeKind::kIdentity));
      case Tok::kLbrace: return MultiSelectHash();
      case Tok::kLparen: {
        LOTE_ASSIGN_OR_RETURN(Node inner, Expression(0));
        LOTE_TRY(Match(Tok::kRparen, "')'"));
        return inner;
      }
      case Tok::kNot: {
        LOTE_ASSIGN_OR_RETURN(Node operand, Expression(BindingPower(Tok::kNot)));
        return MakeNode(NodeKind::kNot, std::move(operand));
      }
      case Tok::kLbracket:
        if (Current() == Tok::kNumber || Current() == Tok::kColon) {
          return IndexOrSlice(MakeNode(NodeKind::kIdentity));
        }
        if (Current() == Tok::kStar && Peek(1).type == Tok::kRbracket) {
          Advance();
          Advance();
          return Projection(MakeNode(NodeKind::kIdentity));
        }
        return MultiSelectList();
      default: return Unexpected(token);
    }
  }

  // A token after a complete expression `left`.
  Result<Node> Led(const Token& token, Node left) {
    switch (token.type) {
      case Tok::kDot: {
        if (Current() == Tok::kStar) {  // `a.*`
          Advance();
          LOTE_ASSIGN_OR_RETURN(Node right, ProjectionRhs(BindingPower(Tok::kDot)));
          return MakeNode(NodeKind::kValueProjection, std::move(left), std::move(right));
        }
        LOTE_ASSIGN_OR_RETURN(Node right, DotRhs(BindingPower(Tok::kDot)));
        return MakeNode(NodeKind::kSubexpression, std::move(left), std::move(right));
      }
      case Tok::kPipe:
      case Tok::kOr:
      case Tok::kAnd: {
        LOTE_ASSIGN_OR_RETURN(Node right, Expression(BindingPower(token.type)));
        const NodeKind kind = token.type == Tok::kPipe ? NodeKind::kPipe
                              : token.type == Tok::kOr ? NodeKind::kOr
                                                       : NodeKind::kAnd;
        return MakeNode(kind, std::move(left), std::move(right));
      }
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kLt:
      case Tok::kLte:
      case Tok::kGt:
      case Tok::kGte: {
        LOTE_ASSIGN_OR_RETURN(Node right, Expression(BindingPower(token.type)));
        Node node = MakeNode(NodeKind::kComparator, std::move(left), std::move(right));
        node.op = ToCompareOp(token.type);
        return node;
      }
      case Tok::kFilter: return FilterProjection(std::move(left));
      case Tok::kFlatten: return Flatten(std::move(left));
      case Tok::kLbracket:
        if (Current() == Tok::kNumber || Current() == Tok::kColon) {
          return IndexOrSlice(std::move(left));
        }
        LOTE_TRY(Match(Tok::kStar, "a number, ':' or '*' after '['"));
        LOTE_TRY(Match(Tok::kRbracket, "']'"));
        return Projection(std::move(left));
      case Tok::kLparen: return ErrorAt(token, "function calls are not supported");
      default: return Unexpected(token);
    }
  }

  // After `left[*]`.
  Result<Node> Projection(Node left) {
    LOTE_ASSIGN_OR_RETURN(Node right, ProjectionRhs(BindingPower(Tok::kStar)));
    return MakeNode(NodeKind::kProjection, std::move(left), std::move(right));
  }

  // After `left[]`.
  Result<Node> Flatten(Node left) {
    LOTE_ASSIGN_OR_RETURN(Node right, ProjectionRhs(BindingPower(Tok::kFlatten)));
    return MakeNode(NodeKind::kProjection, MakeNode(NodeKind::kFlatten, std::move(left)),
                    std::move(right));
  }

  // After `left[?`.
  Result<Node> FilterProjection(Node left) {
    LOTE_ASSIGN_OR_RETURN(Node condition, Expression(0));
    LOTE_TRY(Match(Tok::kRbracket, "']' to close the filter"));
    LOTE_ASSIGN_OR_RETURN(Node right, ProjectionRhs(BindingPower(Tok::kFilter)));
    return MakeNode(NodeKind::kFilterProjection, std::move(left), std::move(right),
                    std::move(condition));
  }

  // After `left[`, looking at a number or ':'.
  Result<Node> IndexOrSlice(Node left) {
    if (Current() == Tok::kColon || Peek(1).type == Tok::kColon) {
      LOTE_ASSIGN_OR_RETURN(Node slice, Slice());
      LOTE_ASSIGN_OR_RETURN(Node right, ProjectionRhs(BindingPower(Tok::kStar)));
      return MakeNode(NodeKind::kProjection, Chain(std::move(left), std::move(slice)),
                      std::move(right));
    }
    Node index = MakeNode(NodeKind::kIndex);
    index.index = Advance().number;
    LOTE_TRY(Match(Tok::kRbracket, "']'"));
    return Chain(std::move(left), std::move(index));
  }

  // `start:stop:step]`, each part optional.
  Result<Node> Slice() {
    Node node = MakeNode(NodeKind::kSlice);
    size_t part = 0;
    const Token* step = nullptr;
    while (Current() != Tok::kRbracket) {
      if (Current() == Tok::kColon && part < 2) {
        ++part;
        Advance();
      } else if (Current() == Tok::kNumber && !node.slice[part]) {
        if (part == 2) step = &Peek();
        node.slice[part] = Advance().number;
      } else {
        return ErrorAt(Peek(), "expected a number, ':' or ']' in slice, found " + Describe(Peek()));
      }
    }
    Advance();
    if (step != nullptr && step->number == 0) return ErrorAt(*step, "slice step cannot be 0");
    return node;
  }

  // What follows a projection: nothing, `[...]`, `[?...]` or `.rhs`.
  Result<Node> ProjectionRhs(int binding_power) {
    if (BindingPower(Current()) < kProjectionStop) return MakeNode(NodeKind::kIdentity);
    switch (Current()) {
      case Tok::kLbracket:
      case Tok::kFilter: return Expression(binding_power);
      case Tok::kDot: Advance(); return DotRhs(binding_power);
      default: return Unexpected(Peek());
    }
  }

  // What follows a '.': an identifier, `*`, `[a, b]` or `{k: v}`.
  Result<Node> DotRhs(int binding_power) {
    switch (Current()) {
      case Tok::kIdentifier:
      case Tok::kQuotedIdentifier:
      case Tok::kStar: return Expression(binding_power);
      case Tok::kLbracket: Advance(); return MultiSelectList();
      case Tok::kLbrace: Advance(); return MultiSelectHash();
      default:
        return ErrorAt(
            Peek(), "expected an identifier, '*', '[' or '{' after '.', found " + Describe(Peek()));
    }
  }

  // After `[`: `a, b]`.
  Result<Node> MultiSelectList() {
    Node node = MakeNode(NodeKind::kMultiSelectList);
    while (true) {
      LOTE_ASSIGN_OR_RETURN(Node item, Expression(0));
      AddChild(node, std::move(item));
      if (Current() == Tok::kRbracket) break;
      LOTE_TRY(Match(Tok::kComma, "',' or ']'"));
    }
    Advance();
    return node;
  }

  // After `{`: `key: expression, ...}`.
  Result<Node> MultiSelectHash() {
    Node node = MakeNode(NodeKind::kMultiSelectHash);
    while (true) {
      const Token& key = Peek();
      if (key.type != Tok::kIdentifier && key.type != Tok::kQuotedIdentifier) {
        return ErrorAt(key, "expected a key name, found " + Describe(key));
      }
      Advance();
      LOTE_TRY(Match(Tok::kColon, "':' after key '" + key.name + "'"));
      LOTE_ASSIGN_OR_RETURN(Node value, Expression(0));
      node.keys.push_back(key.name);
      AddChild(node, std::move(value));
      if (Current() == Tok::kRbrace) break;
      LOTE_TRY(Match(Tok::kComma, "',' or '}'"));
    }
    Advance();
    return node;
  }

  std::string_view expr_;
  std::vector<Token> tokens_;  // ends with kEof
  size_t pos_ = 0;
  int depth_ = 0;
};
}  // namespace

Result<Node> Parse(std::string_view expression) {
  LOTE_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(expression));
  return Parser(expression, std::move(tokens)).Parse();
}

}  // namespace lote::cli::query
