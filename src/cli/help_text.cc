#include "cli/help_text.h"

#include <iostream>
#include <map>
#include <vector>

namespace lote::cli {

namespace {

// Examples by command path ("job stream"); a group without its own shows
// how to ask its commands.
const std::map<std::string, std::vector<std::string>>& Examples() {
  static const std::map<std::string, std::vector<std::string>> kExamples = {
      {"", {"lote serve &", "lote batch-endpoint create -n taxi -f endpoint.yml",
            "lote batch-endpoint invoke -n taxi --input ./data --stream", "lote job list -o table"}},
      {"compute create", {"lote compute create -n cpu-cluster --type local --max-instances 4",
                          "lote compute create -n batch-cluster --type amlcompute --min-instances 0 --max-instances 5",
                          "lote compute create -n hpc --type slurm --partition batch --max-instances 8",
                          "lote compute create -f compute.yml"}},
      {"compute show", {"lote compute show -n cpu-cluster", "lote compute show -n cpu-cluster --query max_instances -o tsv"}},
      {"compute list", {"lote compute list -o table"}},
      {"compute update", {"lote compute update -n cpu-cluster --max-instances 8"}},
      {"compute delete", {"lote compute delete -n cpu-cluster --yes"}},
      {"model create", {"lote model create --name taxi --type mlflow_model --path ./model",
                        "lote model create -f model.yml"}},
      {"model show", {"lote model show -n taxi", "lote model show -n taxi --version 2"}},
      {"model list", {"lote model list -o table", "lote model list --name taxi"}},
      {"model delete", {"lote model delete -n taxi --version 1 --yes"}},
      {"data create", {"lote data create -f data.yml", "lote data create -n taxi-data --type uri_folder --path ./data",
                       "lote data create -n remote --path https://example.com/data/"}},
      {"data show", {"lote data show -n taxi-data", "lote data show -n taxi-data --version 1"}},
      {"data list", {"lote data list -o table"}},
      {"data delete", {"lote data delete -n taxi-data --version 1 --yes"}},
      {"datastore create", {"lote datastore create -n lake --type local --path /srv/lake"}},
      {"datastore show", {"lote datastore show -n lake"}},
      {"datastore list", {"lote datastore list -o table"}},
      {"datastore delete", {"lote datastore delete -n lake --yes"}},
      {"endpoint create", {"lote endpoint create --file endpoint.yml", "lote endpoint create -f endpoint.yml -n other-name"}},
      {"endpoint show", {"lote endpoint show -n mybatchedp --query traffic"}},
      {"endpoint list", {"lote endpoint list -o table"}},
      {"endpoint update", {"lote endpoint update -n mybatchedp --deployment green --deployment-file green.yml",
                           "lote endpoint update -n mybatchedp --traffic green:100"}},
      {"endpoint delete", {"lote endpoint delete -n mybatchedp --yes", "lote endpoint delete -n mybatchedp --deployment green --yes"}},
      {"endpoint invoke", {"lote endpoint invoke -n mybatchedp --input-local-path ./data --stream",
                           "lote endpoint invoke -n mybatchedp --input-data azureml:taxi-data:1 --set mini_batch_size=20",
                           "lote endpoint invoke -n mybatchedp --input https://example.com/data/ --query name -o tsv"}},
      {"endpoint get-token", {"TOKEN=$(lote endpoint get-token -n mybatchedp)"}},
      {"batch-endpoint create", {"lote batch-endpoint create -n taxi -f endpoint.yml"}},
      {"batch-endpoint show", {"lote batch-endpoint show -n taxi --query defaults.deployment_name -o tsv"}},
      {"batch-endpoint list", {"lote batch-endpoint list --query \"[].name\" -o tsv"}},
      {"batch-endpoint update", {"lote batch-endpoint update -n taxi --set defaults.deployment_name=green"}},
      {"batch-endpoint delete", {"lote batch-endpoint delete -n taxi --yes"}},
      {"batch-endpoint invoke", {"lote batch-endpoint invoke -n taxi --input azureml:taxi-data@latest --query name -o tsv",
                                 "lote batch-endpoint invoke -n taxi --input ./data --input-type uri_folder --stream",
                                 "lote batch-endpoint invoke -n taxi --input azureml:taxi-data@latest "
                                 "--output-path azureml://datastores/workspaceblobstore/paths/taxi "
                                 "--set output_file_name=scores.csv"}},
      {"batch-endpoint list-jobs", {"lote batch-endpoint list-jobs -n taxi -o table"}},
      {"batch-deployment create", {"lote batch-deployment create --file deployment.yml --endpoint-name taxi --set-default"}},
      {"batch-deployment show", {"lote batch-deployment show -n blue -e taxi"}},
      {"batch-deployment list", {"lote batch-deployment list -e taxi --query \"[].name\" -o tsv"}},
      {"batch-deployment update", {"lote batch-deployment update -n blue -e taxi --set settings.mini_batch_size=20"}},
      {"batch-deployment delete", {"lote batch-deployment delete -n blue -e taxi --yes"}},
      {"batch-deployment list-jobs", {"lote batch-deployment list-jobs -n blue -e taxi -o table"}},
      {"job show", {"lote job show -n JOB", "lote job show -n JOB --query status -o tsv", "lote job show -n JOB --web"}},
      {"job list", {"lote job list -o table", "lote job list --status Running --endpoint-name taxi --max-results 10"}},
      {"job stream", {"lote job stream -n JOB", "lote job stream -n JOB --user-logs"}},
      {"system df", {"lote system df", "lote system df -o table", "lote system df --query 'biggest_jobs[0].name'"}},
      {"job cancel", {"lote job cancel -n JOB"}},
      {"job delete", {"lote job delete -n JOB --yes"}},
      {"job download", {"lote job download -n JOB --output-name score --download-path ./out",
                        "lote job download -n JOB --download-path ./out"}},
      {"token create", {"lote token create --scope read", "lote token create --scope read --expires-in 7d"}},
      {"dashboard", {"lote dashboard", "lote dashboard --open --job JOB",
                     "LOTE_TOKEN=$(lote token create --scope read) lote dashboard   # a read-only session"}},
      {"completion", {"source <(lote completion bash)", "lote completion zsh > \"${fpath[1]}/_lote\""}},
      {"serve", {"lote serve", "lote serve --home /srv/lote --port 8070", "lote serve --retain-jobs-days 30"}},
  };
  return kExamples;
}

std::string PathOf(CLI::App* app) {
  std::string path;
  for (CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

std::vector<CLI::App*> Children(CLI::App* app) {
  std::vector<CLI::App*> out;
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) out.push_back(sub);
  }
  return out;
}

// Commands that do not talk to a server have no client options to show.
bool IsClientCommand(const std::string& path) {
  for (const char* local : {"serve", "agent", "worker", "completion"}) {
    if (path == local || path.starts_with(std::string(local) + " ")) return false;
  }
  return true;
}

const char* kGlobal =
    "Global options (any command that talks to a server):\n"
    "  -o, --output FORMAT   json (default), yaml, tsv, table, none\n"
    "  --query JMESPATH      pick from the result, e.g. --query name -o tsv\n"
    "  --home DIR            the local server's home (default $LOTE_HOME, else ~/.lote)\n"
    "Environment: LOTE_HOME; LOTE_ENDPOINT and LOTE_TOKEN (a remote server).\n"
    "Exit codes: 0 ok, 1 error, 2 invalid input, 3 not found, 4 exists, 5 not allowed now, "
    "6 auth, 7 unreachable.";

void SetFooter(CLI::App* app) {
  const std::string path = PathOf(app);
  std::string text;
  auto it = Examples().find(path);
  if (it != Examples().end()) {
    text += "Examples:\n";
    for (const auto& e : it->second) text += "  " + e + "\n";
  } else if (auto kids = Children(app); !kids.empty()) {
    text += "Examples:\n";
    for (CLI::App* k : kids) {
      text += "  lote " + path + (path.empty() ? "" : " ") + k->get_name() + " --help\n";
      if (text.size() > 600) break;
    }
  }
  if (IsClientCommand(path)) text += (text.empty() ? "" : "\n") + std::string(kGlobal);
  if (!text.empty()) app->footer("\n" + text);
  for (CLI::App* k : Children(app)) SetFooter(k);
}

void Collect(CLI::App* app, std::vector<std::pair<std::string, std::vector<std::string>>>& out) {
  std::vector<std::string> words;
  for (CLI::App* k : Children(app)) words.push_back(k->get_name());
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) words.push_back("--" + l);
  }
  out.emplace_back(PathOf(app), words);
  for (CLI::App* k : Children(app)) Collect(k, out);
}

}  // namespace

void AddHelpFooters(CLI::App& app) { SetFooter(&app); }

std::string CompletionScript(CLI::App& root, const std::string& shell) {
  std::vector<std::pair<std::string, std::vector<std::string>>> paths;
  Collect(&root, paths);
  std::string known, cases;
  for (const auto& [path, words] : paths) {
    std::string key = "/" + path;
    for (char& c : key) c = c == ' ' ? '/' : c;
    if (path.empty()) key = "";
    else known += (known.empty() ? "" : "|") + key;
    std::string list;
    for (const auto& w : words) list += (list.empty() ? "" : " ") + w;
    cases += "    \"" + key + "\") words=\"" + list + "\" ;;\n";
  }
  std::string script =
      "# lote completion for " + shell + ": generated by `lote completion " + shell + "`\n";
  if (shell == "zsh") script += "#compdef lote\nautoload -U +X bashcompinit && bashcompinit\n";
  script +=
      "_lote() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" w i words=\"\"\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=${COMP_WORDS[i]}\n"
      "    [[ $w == -* ]] && continue\n"
      "    case \"$path/$w\" in\n"
      "      " + known + ") path=\"$path/$w\" ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$path\" in\n" + cases +
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -F _lote lote\n";
  return script;
}

void AddCompletionCommand(CLI::App& root) {
  auto shell = std::make_shared<std::string>();
  auto* c = root.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
  c->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  c->callback([shell, &root] { std::cout << CompletionScript(root, *shell); });
}

}  // namespace lote::cli
