// lote batch-deployment create|show|list|update|delete|list-jobs: az ml's GA
// verbs for the deployments of a batch endpoint.
#include "cli/command_context.h"
#include "cli/confirm.h"
#include "cli/endpoint_ops.h"
#include "cli/set_args.h"

namespace lote::cli {

namespace {

struct Args {
  std::string name, endpoint, file;
  std::vector<std::string> sets;
  bool set_default = false, yes = false, no_wait = false;
};

Result<nlohmann::json> GetDeployment(ApiClient& c, const std::string& endpoint, const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(nlohmann::json ep, c.Get(EndpointPath(endpoint)));
  return FindDeployment(ep, name);
}

// Creates or replaces the deployment from --file; --set-default then makes it
// the endpoint's default. Prints the deployment as stored.
void CreateOrUpdate(const Args& a, CommandContext& ctx) {
  auto put = PutDeploymentFile({.file = a.file, .endpoint = a.endpoint, .name = a.name, .sets = a.sets}, ctx);
  if (!put) return;
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  if (a.set_default) {
    auto patched = (*client)->Patch(EndpointPath(put->endpoint), {{"traffic", {{put->deployment, 100}}}});
    if (!patched) return ctx.Fail(patched.error());
  }
  ctx.Emit(GetDeployment(**client, put->endpoint, put->deployment));
}

// update without --file: --set over the stored deployment ("settings." paths
// name the same keys as the top level).
void UpdateFromSets(const Args& a, CommandContext& ctx) {
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  auto dep = GetDeployment(**client, a.endpoint, a.name);
  if (!dep) return ctx.Fail(dep.error());
  auto parsed = ParseSetArgs(a.sets);
  if (!parsed) return ctx.Fail(parsed.error());
  for (SetArg s : *parsed) {
    if (s.path.starts_with("settings.")) s.path = s.path.substr(9);
    if (s.path == "name" || s.path == "endpoint_name") {
      return ctx.Fail(InvalidArgument("--set " + s.path + ": a deployment's name and endpoint cannot change", "--set"));
    }
    if (auto st = ApplySetArg(*dep, s); !st) return ctx.Fail(st.error());
  }
  auto put = (*client)->Put(DeploymentPath(a.endpoint, a.name), *dep);
  if (!put) return ctx.Fail(put.error());
  if (a.set_default) {
    auto patched = (*client)->Patch(EndpointPath(a.endpoint), {{"traffic", {{a.name, 100}}}});
    if (!patched) return ctx.Fail(patched.error());
  }
  ctx.Emit(GetDeployment(**client, a.endpoint, a.name));
}

}  // namespace

void AddBatchDeploymentCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("batch-deployment", "Manage batch deployments (az ml batch-deployment)")->require_subcommand(0, 1);
  auto a = std::make_shared<Args>();
  auto endpoint_opt = [&](CLI::App* c, bool required) {
    auto* o = c->add_option("-e,--endpoint-name", a->endpoint, "Endpoint name");
    if (required) o->required();
  };
  auto no_wait = [&](CLI::App* c) {
    c->add_flag("--no-wait", a->no_wait, "Accepted for az compatibility (lote's operations are synchronous)");
  };

  auto* create = group->add_subcommand("create", "Create a deployment from YAML (or replace it when it exists)");
  create->add_option("-f,--file", a->file, "Deployment YAML")->required();
  endpoint_opt(create, false);
  create->add_option("-n,--name", a->name, "Deployment name (overrides the file)");
  create->add_flag("--set-default", a->set_default, "Make it the endpoint's default deployment");
  create->add_option("--set", a->sets, "Set a property over the file: path=value (repeatable)");
  no_wait(create);
  create->callback([a, &ctx] { CreateOrUpdate(*a, ctx); });

  auto* show = group->add_subcommand("show", "Show a deployment");
  show->add_option("-n,--name", a->name, "Deployment name")->required();
  endpoint_opt(show, true);
  show->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) { return GetDeployment(c, a->endpoint, a->name); }));
  });

  auto* list = group->add_subcommand("list", "List the deployments of an endpoint");
  endpoint_opt(list, true);
  list->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) -> Result<nlohmann::json> {
      LOTE_ASSIGN_OR_RETURN(nlohmann::json ep, c.Get(EndpointPath(a->endpoint)));
      return ep.value("deployments", nlohmann::json::array());
    }));
  });

  auto* update = group->add_subcommand("update", "Update a deployment: --file, or --set settings.mini_batch_size=…");
  update->add_option("-n,--name", a->name, "Deployment name");
  endpoint_opt(update, false);
  update->add_option("-f,--file", a->file, "Deployment YAML");
  update->add_option("--set", a->sets, "Set a property: path=value (repeatable)");
  update->add_flag("--set-default", a->set_default, "Make it the endpoint's default deployment");
  no_wait(update);
  update->callback([a, &ctx] {
    if (!a->file.empty()) {
      // The deployment must exist: update does not create.
      if (!a->name.empty() && !a->endpoint.empty()) {
        auto found = ctx.Call([&](ApiClient& c) { return GetDeployment(c, a->endpoint, a->name); });
        if (!found) return ctx.Fail(found.error());
      }
      return CreateOrUpdate(*a, ctx);
    }
    if (a->name.empty() || a->endpoint.empty()) {
      return ctx.Fail(InvalidArgument("give --file, or --name and --endpoint-name with --set", "--name"));
    }
    if (a->sets.empty() && !a->set_default) {
      return ctx.Fail(InvalidArgument("nothing to update: give --set path=value, --set-default or --file", "--set"));
    }
    UpdateFromSets(*a, ctx);
  });

  auto* del = group->add_subcommand("delete", "Delete a deployment");
  del->add_option("-n,--name", a->name, "Deployment name")->required();
  endpoint_opt(del, true);
  del->add_flag("-y,--yes", a->yes, "Do not prompt for confirmation");
  no_wait(del);
  del->callback([a, &ctx] {
    const std::string what = "deployment '" + a->name + "' of endpoint '" + a->endpoint + "'";
    if (auto ok = ConfirmDelete(a->yes, "Delete " + what + "?", what, TerminalIo()); !ok) return ctx.Fail(ok.error());
    ctx.Emit(ctx.Call([&](ApiClient& c) -> Result<nlohmann::json> {
      LOTE_TRY(GetDeployment(c, a->endpoint, a->name));  // a clear "not found"
      return c.Delete(DeploymentPath(a->endpoint, a->name));
    }));
  });

  auto* jobs = group->add_subcommand("list-jobs", "List the jobs a deployment ran, newest first");
  jobs->add_option("-n,--name", a->name, "Deployment name")->required();
  endpoint_opt(jobs, true);
  jobs->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) -> Result<nlohmann::json> {
      LOTE_ASSIGN_OR_RETURN(nlohmann::json ep, c.Get(EndpointPath(a->endpoint)));
      // A deleted deployment's jobs are still listed by name.
      LOTE_ASSIGN_OR_RETURN(nlohmann::json all, c.Get("/api/v1/jobs?endpoint=" + EncodePath(a->endpoint)));
      nlohmann::json out = nlohmann::json::array();
      for (auto& j : all) {
        if (j.value("deployment", "") == a->name) out.push_back(std::move(j));
      }
      if (out.empty()) LOTE_TRY(FindDeployment(ep, a->name));
      return out;
    }));
  });
}

}  // namespace lote::cli
