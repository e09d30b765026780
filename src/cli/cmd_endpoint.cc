// lote endpoint create|show|list|update|delete|get-token
#include <iostream>

#include "cli/command_context.h"
#include "cli/confirm.h"
#include "cli/endpoint_ops.h"
#include "model/specs.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

struct EndpointArgs {
  std::string name, type, file, traffic, deployment, deployment_file, description;
  bool yes = false;
  bool force = false;
};

Status CheckType(const std::string& type) {
  if (!type.empty() && type != "batch") {
    return InvalidArgument("lote serves batch endpoints only: --type must be 'batch', not '" + type + "'", "--type");
  }
  return {};
}

void Update(EndpointArgs& a, CommandContext& ctx) {
  if (auto st = CheckType(a.type); !st) return ctx.Fail(st.error());
  if (a.deployment_file.empty() && a.traffic.empty() && a.description.empty()) {
    return ctx.Fail(InvalidArgument(
        "nothing to update: give --deployment-file (with --deployment), --traffic or --description"));
  }
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  Result<nlohmann::json> result = nlohmann::json();
  if (!a.deployment_file.empty()) {
    auto put = PutDeploymentFile({.file = a.deployment_file, .endpoint = a.name, .name = a.deployment, .sets = {}, .strict_name = true}, ctx);
    if (!put) return;
    result = put->response;
  }
  nlohmann::json patch = nlohmann::json::object();
  if (!a.traffic.empty()) {
    auto traffic = model::ParseTrafficArg(a.traffic);
    if (!traffic) return ctx.Fail(traffic.error().UnderField("--traffic"));
    patch["traffic"] = *traffic;
  }
  if (!a.description.empty()) patch["description"] = a.description;
  if (!patch.empty()) result = (*client)->Patch(EndpointPath(a.name), patch);
  ctx.Emit(result);
}

}  // namespace

void AddEndpointCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("endpoint", "Manage batch endpoints")->require_subcommand(0, 1);
  auto args = std::make_shared<EndpointArgs>();
  auto type_opt = [&](CLI::App* c) { c->add_option("-t,--type", args->type, "Endpoint type (batch)"); };

  auto* create = group->add_subcommand("create", "Create an endpoint and its deployments from YAML");
  create->add_option("-f,--file", args->file, "Endpoint YAML (Azure ML's format)")->required();
  create->add_option("-n,--name", args->name, "Endpoint name (overrides the file)");
  type_opt(create);
  create->callback([args, &ctx] {
    if (auto st = CheckType(args->type); !st) return ctx.Fail(st.error());
    CreateEndpoint({.file = args->file, .name = args->name, .sets = {}, .update_existing = false}, ctx);
  });

  auto* show = group->add_subcommand("show", "Show an endpoint with its deployments");
  show->add_option("-n,--name", args->name, "Endpoint name")->required();
  type_opt(show);
  show->callback([args, &ctx] {
    if (auto st = CheckType(args->type); !st) return ctx.Fail(st.error());
    ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get(EndpointPath(args->name)); }));
  });

  auto* list = group->add_subcommand("list", "List endpoints");
  type_opt(list);
  list->callback([args, &ctx] {
    if (auto st = CheckType(args->type); !st) return ctx.Fail(st.error());
    ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get("/api/v1/endpoints"); }));
  });

  auto* update = group->add_subcommand("update", "Add or replace a deployment, or switch traffic");
  update->add_option("-n,--name", args->name, "Endpoint name")->required();
  update->add_option("--deployment,--deployment-name", args->deployment, "Deployment name");
  update->add_option("--deployment-file", args->deployment_file, "Deployment YAML to add or replace");
  update->add_option("--traffic", args->traffic, "Traffic, e.g. mnist-deployment:100");
  update->add_option("--description", args->description, "Description");
  type_opt(update);
  update->callback([args, &ctx] { Update(*args, ctx); });

  auto* del = group->add_subcommand("delete", "Delete an endpoint (or one --deployment of it)");
  del->add_option("-n,--name", args->name, "Endpoint name")->required();
  del->add_option("--deployment,--deployment-name", args->deployment, "Delete only this deployment");
  del->add_flag("-y,--yes", args->yes, "Do not prompt for confirmation");
  del->add_flag("--force", args->force, "Cancel the endpoint's live jobs first (otherwise it is refused while it has any)");
  type_opt(del);
  del->callback([args, &ctx] {
    if (auto st = CheckType(args->type); !st) return ctx.Fail(st.error());
    const bool one_deployment = !args->deployment.empty();
    if (one_deployment && args->force) {
      return ctx.Fail(InvalidArgument("--force applies to deleting a whole endpoint, not one --deployment", "--force"));
    }
    const std::string what = one_deployment
                                 ? "deployment '" + args->deployment + "' of endpoint '" + args->name + "'"
                                 : "endpoint '" + args->name + "'";
    const std::string question =
        one_deployment ? "Delete " + what + "?"
                       : "Delete endpoint '" + args->name + "' and its deployments?" +
                             (args->force ? " Its live jobs are canceled first." : "");
    if (auto ok = ConfirmDelete(args->yes, question, what, TerminalIo()); !ok) return ctx.Fail(ok.error());
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    if (one_deployment) {
      return ctx.Emit((*client)->Delete(EndpointPath(args->name) + "/deployments/" + EncodePath(args->deployment)));
    }
    ctx.Emit((*client)->Delete(EndpointPath(args->name) + (args->force ? "?force=true" : "")));
  });

  AddInvokeCommand(*group, ctx);

  auto* token = group->add_subcommand("get-token", "Print a token that may invoke this endpoint only");
  token->add_option("-n,--name", args->name, "Endpoint name")->required();
  type_opt(token);
  token->callback([args, &ctx] {
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    auto t = (*client)->Post(EndpointPath(args->name) + "/token", nlohmann::json::object());
    if (!t) return ctx.Fail(t.error());
    if (ctx.query.empty() && ctx.output == "json" && !ctx.output_given) {
      // Bare token on stdout so that $(lote endpoint get-token …) works in scripts.
      std::cout << (*t)["accessToken"].get<std::string>() << "\n";
      std::cerr << "lote: token for endpoint '" << args->name << "' expires "
                << (*t)["expiresOn"].get<std::string>() << "\n";
      return;
    }
    ctx.Emit(t);
  });
}

}  // namespace lote::cli
