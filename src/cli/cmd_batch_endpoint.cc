// lote batch-endpoint create|show|list|update|delete|invoke|list-jobs: az ml's
// GA verbs, flag for flag, over the same API as `lote endpoint`.
#include "cli/command_context.h"
#include "cli/confirm.h"
#include "cli/endpoint_ops.h"
#include "cli/set_args.h"
#include "model/specs.h"

namespace lote::cli {

namespace {

struct Args {
  std::string name, file, description;
  std::vector<std::string> sets;
  bool yes = false, force = false, no_wait = false;
};

// az's `update --set`: what an endpoint lets change after it is created.
Result<nlohmann::json> PatchFromSets(ApiClient& client, const std::string& name,
                                     const std::vector<std::string>& sets) {
  LOTE_ASSIGN_OR_RETURN(auto parsed, ParseSetArgs(sets));
  nlohmann::json patch = nlohmann::json::object();
  for (const SetArg& s : parsed) {
    if (s.path == "defaults.deployment_name") {
      if (!s.value.is_string()) return InvalidArgument("--set defaults.deployment_name needs a deployment name", "--set");
      patch["traffic"] = {{s.value.get<std::string>(), 100}};
    } else if (s.path == "description") {
      patch["description"] = s.value.is_string() ? s.value.get<std::string>() : s.value.dump();
    } else if (s.path.starts_with("tags.")) {
      if (!patch.contains("tags")) {
        LOTE_ASSIGN_OR_RETURN(nlohmann::json ep, client.Get(EndpointPath(name)));
        patch["tags"] = ep.value("tags", nlohmann::json::object());
      }
      patch["tags"][s.path.substr(5)] = s.value;
    } else {
      return InvalidArgument("--set " + s.path + ": an endpoint's defaults.deployment_name, "
                             "description and tags.<name> can be updated; deployments are "
                             "changed with lote batch-deployment", "--set");
    }
  }
  return patch;
}

void Update(Args& a, CommandContext& ctx) {
  if (!a.file.empty()) {
    // update, unlike create, needs the endpoint to exist.
    auto ep = ctx.Call([&](ApiClient& c) { return c.Get(EndpointPath(a.name)); });
    if (!ep) return ctx.Fail(ep.error());
    return CreateEndpoint({.file = a.file, .name = a.name, .sets = a.sets, .update_existing = true}, ctx);
  }
  if (a.sets.empty() && a.description.empty()) {
    return ctx.Fail(InvalidArgument("nothing to update: give --set defaults.deployment_name=<deployment>, "
                                    "--description or --file"));
  }
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  auto patch = PatchFromSets(**client, a.name, a.sets);
  if (!patch) return ctx.Fail(patch.error());
  if (!a.description.empty()) (*patch)["description"] = a.description;
  ctx.Emit((*client)->Patch(EndpointPath(a.name), *patch));
}

}  // namespace

void AddBatchEndpointCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("batch-endpoint", "Manage batch endpoints (az ml batch-endpoint)")->require_subcommand(0, 1);
  auto a = std::make_shared<Args>();
  auto no_wait = [&](CLI::App* c) {
    c->add_flag("--no-wait", a->no_wait, "Accepted for az compatibility (lote's operations are synchronous)");
  };

  auto* create = group->add_subcommand("create", "Create a batch endpoint (or update it when it exists)");
  create->add_option("-n,--name", a->name, "Endpoint name (overrides the file)");
  create->add_option("-f,--file", a->file, "Endpoint YAML");
  create->add_option("--set", a->sets, "Set a property: path=value (repeatable)");
  no_wait(create);
  create->callback([a, &ctx] {
    if (a->file.empty() && a->name.empty()) {
      return ctx.Fail(InvalidArgument("give the endpoint's YAML with --file, or at least --name", "--file"));
    }
    CreateEndpoint({.file = a->file, .name = a->name, .sets = a->sets, .update_existing = true}, ctx);
  });

  auto* show = group->add_subcommand("show", "Show a batch endpoint");
  show->add_option("-n,--name", a->name, "Endpoint name")->required();
  show->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get(EndpointPath(a->name)); }));
  });

  auto* list = group->add_subcommand("list", "List batch endpoints");
  list->callback([&ctx] { ctx.Emit(ctx.Call([](ApiClient& c) { return c.Get("/api/v1/endpoints"); })); });

  auto* update = group->add_subcommand("update", "Update a batch endpoint: --set defaults.deployment_name=D");
  update->add_option("-n,--name", a->name, "Endpoint name")->required();
  update->add_option("-f,--file", a->file, "Endpoint YAML");
  update->add_option("--set", a->sets, "Set a property: defaults.deployment_name=D, description=…, tags.K=V");
  update->add_option("--description", a->description, "Description");
  no_wait(update);
  update->callback([a, &ctx] { Update(*a, ctx); });

  auto* del = group->add_subcommand("delete", "Delete a batch endpoint and its deployments");
  del->add_option("-n,--name", a->name, "Endpoint name")->required();
  del->add_flag("-y,--yes", a->yes, "Do not prompt for confirmation");
  del->add_flag("--force", a->force, "Cancel the endpoint's live jobs first");
  no_wait(del);
  del->callback([a, &ctx] {
    const std::string what = "endpoint '" + a->name + "'";
    if (auto ok = ConfirmDelete(a->yes, "Delete " + what + " and its deployments?", what, TerminalIo()); !ok) {
      return ctx.Fail(ok.error());
    }
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Delete(EndpointPath(a->name) + (a->force ? "?force=true" : ""));
    }));
  });

  AddInvokeCommand(*group, ctx);

  auto* jobs = group->add_subcommand("list-jobs", "List the jobs of a batch endpoint, newest first");
  jobs->add_option("-n,--name", a->name, "Endpoint name")->required();
  jobs->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) -> Result<nlohmann::json> {
      LOTE_TRY(c.Get(EndpointPath(a->name)));  // "not found" rather than an empty list
      return c.Get("/api/v1/jobs?endpoint=" + EncodePath(a->name));
    }));
  });
}

}  // namespace lote::cli
