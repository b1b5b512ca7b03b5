#pragma once
// The four services: each wires its routes and health checks onto a ServiceContext.
#include <string>

namespace dive::services {

class ServiceContext;

void wire_api(ServiceContext& ctx);
void wire_idp(ServiceContext& ctx);
void wire_pdp(ServiceContext& ctx);
void wire_kas(ServiceContext& ctx);

// Entry point of `dive serve <api|idp|pdp|kas> --instance CODE`: runs until SIGTERM/SIGINT.
int serve(const std::string& service, const std::string& code);

}  // namespace dive::services
