// lote compute create|show|list|update|delete
#include <iostream>

#include "cli/command_context.h"
#include "cli/confirm.h"
#include "model/specs.h"

namespace lote::cli {

namespace {

struct ComputeArgs {
  std::string name, type, description, file, size;
  std::optional<int64_t> min_instances, max_instances;
  // slurm
  std::optional<std::string> partition, account, time_limit, agent_binary;
  std::vector<std::string> sbatch_args;
  bool yes = false;
};

// The Slurm flags over a compute document (create) or a patch (update).
void LaySlurmFlags(const ComputeArgs& a, nlohmann::json& body) {
  if (a.partition) body["partition"] = *a.partition;
  if (a.account) body["account"] = *a.account;
  if (a.time_limit) body["time_limit"] = *a.time_limit;
  if (a.agent_binary) body["agent_binary"] = *a.agent_binary;
  if (!a.sbatch_args.empty()) body["sbatch_args"] = a.sbatch_args;
}

void AddSlurmOptions(CLI::App* cmd, ComputeArgs& a) {
  cmd->add_option("--partition", a.partition, "slurm: the partition agents are submitted to");
  cmd->add_option("--account", a.account, "slurm: the account agents are charged to");
  cmd->add_option("--time-limit", a.time_limit, "slurm: each agent's time limit (minutes, HH:MM:SS, D-HH:MM:SS)");
  cmd->add_option("--sbatch-arg", a.sbatch_args,
                  "slurm: one more sbatch option, e.g. --sbatch-arg=--gres=gpu:1 (repeatable)");
  cmd->add_option("--agent-binary", a.agent_binary, "slurm: lote's path on the nodes (default: the server's)");
}

// Reads --file (if any), then lays the flags over it; validates locally so
// that errors in the file carry its line numbers.
Result<nlohmann::json> BuildCompute(const ComputeArgs& a, CommandContext& ctx, bool* failed) {
  nlohmann::json body = nlohmann::json::object();
  std::optional<model::YamlDocument> doc;
  if (!a.file.empty()) {
    auto loaded = model::LoadYamlFile(a.file);
    if (!loaded) return loaded.error();
    doc = std::move(*loaded);
    body = doc->value;
  }
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.type.empty()) body["type"] = a.type;
  if (!a.description.empty()) body["description"] = a.description;
  if (!a.size.empty()) body["size"] = a.size;
  if (a.min_instances) body["min_instances"] = *a.min_instances;
  if (a.max_instances) body["max_instances"] = *a.max_instances;
  LaySlurmFlags(a, body);
  auto norm = model::NormalizeCompute(body);
  if (!norm) {
    ctx.Fail(norm.error(), doc ? &*doc : nullptr);
    *failed = true;
  }
  return norm;
}

// An Azure compute type runs on this server's local backend: said once, on
// stderr, so that scripts reading stdout are unaffected.
void WarnAzureType(const ComputeArgs& a, const nlohmann::json& body) {
  std::string given = a.type;
  if (given.empty() && !a.file.empty()) {
    if (auto doc = model::LoadYamlFile(a.file); doc && doc->value.is_object()) {
      given = doc->value.value("type", "");
    }
  }
  if (given == "amlcompute") {
    std::cerr << "lote: warning: compute type amlcompute runs on this server's local backend "
                 "(its agents are processes on this machine)"
              << (body.contains("size") ? "; size '" + body["size"].get<std::string>() + "' is recorded only" : "")
              << "\n";
  }
}

}  // namespace

void AddComputeCommands(CLI::App& app, CommandContext& ctx) {
  auto* compute = app.add_subcommand("compute", "Manage compute targets")->require_subcommand(0, 1);
  auto args = std::make_shared<ComputeArgs>();

  auto* create = compute->add_subcommand("create", "Create a compute target");
  create->add_option("-n,--name", args->name, "Compute name");
  create->add_option("--type", args->type, "local (the default; amlcompute is read as local) or slurm");
  create->add_option("--min-instances", args->min_instances, "Minimum instances");
  create->add_option("--max-instances", args->max_instances, "Maximum instances");
  create->add_option("--description", args->description, "Description");
  create->add_option("--size", args->size, "Azure VM size (recorded; lote runs on its own machines)");
  create->add_option("-f,--file", args->file, "YAML file describing the compute");
  AddSlurmOptions(create, *args);
  create->callback([args, &ctx] {
    bool failed = false;
    auto body = BuildCompute(*args, ctx, &failed);
    if (failed) return;
    if (!body) return ctx.Fail(body.error());
    WarnAzureType(*args, *body);
    ctx.Emit(ctx.Call([&](ApiClient& c) -> Result<nlohmann::json> {
      auto created = c.Post("/api/v1/computes", *body);
      if (created || created.error().code() != ErrorCode::kAlreadyExists) return created;
      // As az: creating what exists updates it, so a setup script can run twice.
      nlohmann::json patch = *body;
      patch.erase("name");
      return c.Patch("/api/v1/computes/" + EncodePath(args->name.empty() ? (*body)["name"].get<std::string>() : args->name), patch);
    }));
  });

  auto* show = compute->add_subcommand("show", "Show a compute target");
  show->add_option("-n,--name", args->name, "Compute name")->required();
  show->callback([args, &ctx] {
    ctx.Emit(ctx.Call(
        [&](ApiClient& c) { return c.Get("/api/v1/computes/" + EncodePath(args->name)); }));
  });

  auto* list = compute->add_subcommand("list", "List compute targets");
  list->callback(
      [&ctx] { ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get("/api/v1/computes"); })); });

  auto* update = compute->add_subcommand("update", "Update a compute target's scale settings");
  update->add_option("-n,--name", args->name, "Compute name")->required();
  update->add_option("--min-instances", args->min_instances, "Minimum instances");
  update->add_option("--max-instances", args->max_instances, "Maximum instances");
  update->add_option("--description", args->description, "Description");
  AddSlurmOptions(update, *args);
  update->callback([args, &ctx] {
    nlohmann::json patch = nlohmann::json::object();
    if (args->min_instances) patch["min_instances"] = *args->min_instances;
    if (args->max_instances) patch["max_instances"] = *args->max_instances;
    if (!args->description.empty()) patch["description"] = args->description;
    LaySlurmFlags(*args, patch);
    if (patch.empty()) {
      return ctx.Fail(InvalidArgument("nothing to update: give --min-instances, --max-instances, --description "
                                      "or a slurm setting"));
    }
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Patch("/api/v1/computes/" + EncodePath(args->name), patch);
    }));
  });

  auto* del = compute->add_subcommand("delete", "Delete a compute target");
  del->add_option("-n,--name", args->name, "Compute name")->required();
  del->add_flag("-y,--yes", args->yes, "Do not prompt for confirmation");
  del->callback([args, &ctx] {
    const std::string what = "compute '" + args->name + "'";
    if (auto ok = ConfirmDelete(args->yes, "Delete " + what + "?", what, TerminalIo()); !ok) return ctx.Fail(ok.error());
    ctx.Emit(ctx.Call(
        [&](ApiClient& c) { return c.Delete("/api/v1/computes/" + EncodePath(args->name)); }));
  });
}

}  // namespace lote::cli
