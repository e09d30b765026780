// The tabular limit for bench/run: how fast libxgboost itself predicts.
//
//   lote_bench_xgb_limit --model model.json [--reps 3] [--threads N] a.csv b.csv …
//   lote_bench_xgb_limit --model model.json --stdin a.csv b.csv …
//
// Loads every data row of the CSV files into one dense float matrix first
// (the parse is not timed), then times XGBoosterPredictFromDense over all
// rows at once with N threads (default: every core). The columns are the
// model's feature names looked up in each file's header, or every column in
// order when the model saves no names.
//
// --reps N: N repetitions, then one JSON line:
//   {"rows": R, "features": F, "threads": N, "load_s": …, "predict_s": [...],
//    "rows_per_s": [...], "median_rows_per_s": …, "checksum": …}
// --stdin: prints {"rows": R, "features": F, "threads": N, "load_s": …} once
// loaded, then one repetition per line read from stdin, each answered with
// {"predict_s": …, "rows_per_s": …, "checksum": …}, until end of input — so
// that a harness can interleave the repetitions with other measurements.
// Exit 1 with a message on stderr when a file or the model cannot be read.
#include <xgboost/c_api.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "xgb_limit: %s\n", message.c_str());
  std::exit(1);
}

void Check(int rc, const char* what) {
  if (rc != 0) Die(std::string(what) + ": " + XGBGetLastError());
}

std::vector<std::string_view> SplitCommas(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      cells.push_back(line.substr(start));
      return cells;
    }
    cells.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

// Appends the file's rows (the `names` columns, or all) to `values`.
size_t LoadCsv(const std::string& path, const std::vector<std::string>& names, size_t features,
               std::vector<float>& values) {
  const std::string text = ReadAll(path);
  std::string_view rest(text);
  size_t eol = rest.find('\n');
  std::string_view header = rest.substr(0, eol);
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  std::vector<std::string_view> columns = SplitCommas(header);
  std::vector<size_t> pick;
  if (names.empty()) {
    if (columns.size() != features) Die("'" + path + "' has " + std::to_string(columns.size()) +
                                        " columns, the model takes " + std::to_string(features));
    for (size_t i = 0; i < features; ++i) pick.push_back(i);
  } else {
    for (const std::string& name : names) {
      auto it = std::find(columns.begin(), columns.end(), name);
      if (it == columns.end()) Die("'" + path + "' has no column '" + name + "'");
      pick.push_back(static_cast<size_t>(it - columns.begin()));
    }
  }
  rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
  size_t rows = 0;
  std::vector<float> row(columns.size());
  while (!rest.empty()) {
    eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string_view> cells = SplitCommas(line);
    if (cells.size() != columns.size()) Die("'" + path + "': row " + std::to_string(rows) + " has " +
                                            std::to_string(cells.size()) + " cells");
    for (size_t c : pick) {
      float v = 0;
      auto [end, ec] = std::from_chars(cells[c].data(), cells[c].data() + cells[c].size(), v);
      if (ec != std::errc() || end != cells[c].data() + cells[c].size()) {
        Die("'" + path + "': row " + std::to_string(rows) + ": '" + std::string(cells[c]) +
            "' is not a number");
      }
      values.push_back(v);
    }
    ++rows;
  }
  return rows;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  int reps = 3;
  bool from_stdin = false;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--model") {
      model = value();
    } else if (a == "--reps") {
      reps = std::atoi(value().c_str());
    } else if (a == "--stdin") {
      from_stdin = true;
    } else if (a == "--threads") {
      threads = std::atoi(value().c_str());
    } else {
      files.emplace_back(a);
    }
  }
  if (model.empty() || files.empty() || reps < 1 || threads < 1) {
    Die("usage: lote_bench_xgb_limit --model FILE [--reps N | --stdin] [--threads N] CSV...");
  }

  BoosterHandle booster = nullptr;
  Check(XGBoosterCreate(nullptr, 0, &booster), "XGBoosterCreate");
  Check(XGBoosterLoadModel(booster, model.c_str()), ("loading " + model).c_str());
  Check(XGBoosterSetParam(booster, "nthread", std::to_string(threads).c_str()), "nthread");
  bst_ulong features = 0;
  Check(XGBoosterGetNumFeature(booster, &features), "XGBoosterGetNumFeature");
  bst_ulong n_names = 0;
  const char** raw_names = nullptr;
  Check(XGBoosterGetStrFeatureInfo(booster, "feature_name", &n_names, &raw_names), "feature names");
  std::vector<std::string> names(raw_names, raw_names + n_names);

  auto load_start = std::chrono::steady_clock::now();
  std::vector<float> values;
  size_t rows = 0;
  for (const std::string& f : files) rows += LoadCsv(f, names, features, values);
  const double load_s = Seconds(load_start);

  const std::string array_interface =
      R"({"data": [)" + std::to_string(reinterpret_cast<uintptr_t>(values.data())) +
      R"(, true], "shape": [)" + std::to_string(rows) + ", " + std::to_string(features) +
      R"(], "typestr": "<f4", "version": 3})";
  // libxgboost 1.7 needs "cache_id": 0 for inplace prediction (as lote's
  // src/native/xgboost_model.cc).
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
      R"("strict_shape": false, "cache_id": 0, "missing": NaN})";
  // One timed prediction over every row; returns {seconds, checksum}.
  auto predict = [&]() -> std::pair<double, double> {
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    auto start = std::chrono::steady_clock::now();
    Check(XGBoosterPredictFromDense(booster, array_interface.c_str(), config, nullptr, &shape, &dim,
                                    &result),
          "XGBoosterPredictFromDense");
    const double s = Seconds(start);
    if (dim == 0 || shape[0] != rows) Die("the prediction has the wrong shape");
    double checksum = 0;
    for (size_t i = 0; i < rows; ++i) checksum += result[i];
    return {s, checksum};
  };
  if (from_stdin) {
    std::printf("{\"rows\": %zu, \"features\": %llu, \"threads\": %d, \"load_s\": %.3f}\n", rows,
                static_cast<unsigned long long>(features), threads, load_s);
    std::fflush(stdout);
    for (int c = std::getchar(); c != EOF; c = std::getchar()) {
      if (c != '\n') continue;
      auto [s, checksum] = predict();
      std::printf("{\"predict_s\": %.6f, \"rows_per_s\": %.1f, \"checksum\": %.6g}\n", s,
                  static_cast<double>(rows) / s, checksum);
      std::fflush(stdout);
    }
    XGBoosterFree(booster);
    return 0;
  }
  std::vector<double> seconds, rates;
  double checksum = 0;
  for (int r = 0; r < reps; ++r) {
    auto [s, sum] = predict();
    checksum = sum;
    seconds.push_back(s);
    rates.push_back(static_cast<double>(rows) / s);
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 == 1
                            ? sorted[sorted.size() / 2]
                            : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  std::printf(
      "{\"rows\": %zu, \"features\": %llu, \"threads\": %d, \"load_s\": %.3f, \"predict_s\": %s, "
      "\"rows_per_s\": %s, \"median_rows_per_s\": %.1f, \"checksum\": %.6g}\n",
      rows, static_cast<unsigned long long>(features), threads, load_s, list(seconds).c_str(),
      list(rates).c_str(), median, checksum);
  XGBoosterFree(booster);
  return 0;
}
