#include "exe/usage.h"

#include <iostream>

#include "model/names.h"

namespace lote {

namespace {

CLI::App* Deepest(CLI::App* app) {
  while (true) {
    auto chosen = app->get_subcommands();
    if (chosen.empty()) return app;
    app = chosen.back();
  }
}

std::string CommandLine(CLI::App* app) {
  std::string path;
  for (CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path.empty() ? "lote" : path;
}

std::vector<std::string> SubcommandNames(CLI::App* app) {
  std::vector<std::string> out;
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) out.push_back(sub->get_name());  // hidden ones have no group
  }
  return out;
}

std::vector<std::string> OptionNames(CLI::App* app) {
  std::vector<std::string> out;
  for (CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) out.push_back("--" + l);
    }
  }
  return out;
}

std::string Suggest(const std::string& word, const std::vector<std::string>& names) {
  std::vector<std::string_view> views(names.begin(), names.end());
  return model::DidYouMean(word, views);
}

// What CLI11 could not place: the first argument nobody took.
std::string FirstExtra(CLI::App& root) {
  std::vector<std::string> left = root.remaining(true);
  return left.empty() ? std::string() : left.front();
}

int UsageError(CLI::App& root, const CLI::ParseError& e) {
  CLI::App* at = Deepest(&root);
  const std::string cmd = CommandLine(at);
  std::string extra = FirstExtra(root);
  // An unknown word explains most other errors ("--nmae x" -> "--name is
  // required"), so it is reported first whatever CLI11 stopped on.
  if (!extra.empty()) {
    if (extra.starts_with("-")) {
      std::string flag = extra.substr(0, extra.find('='));
      std::cerr << "lote: error: " << cmd << ": unknown option '" << flag << "'"
                << Suggest(flag, OptionNames(at)) << "\nRun '" << cmd << " --help' for its options.\n";
      return 2;
    }
    auto subs = SubcommandNames(at);
    if (!subs.empty()) {
      std::cerr << "lote: error: '" << extra << "' is not a " << cmd << " command"
                << Suggest(extra, subs) << "\n\n"
                << at->help();
      return 2;
    }
  }
  std::cerr << "lote: error: " << cmd << ": " << e.what() << "\nRun '" << cmd
            << " --help' for usage.\n";
  return 2;
}

}  // namespace

int ParseCommandLine(CLI::App& app, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e);
  }
  CLI::App* at = Deepest(&app);
  if (!SubcommandNames(at).empty()) {  // a bare group: its help, as az prints
    std::cout << at->help();
    return 0;
  }
  return -1;
}

}  // namespace lote
