#pragma once
// GET /api/admin/audit: the instance's audit trail for administrators (role admin in the token; others get
// 403), the same filters as `./dive audit` as query parameters (user, resource, since, until, type, outcome,
// limit ≤ 1,000, cursor), newest first, with the cursor of the next page; a bad parameter is a 400 naming
// it. Every query is itself recorded (admin.audit_query). Also the trail's upkeep: the api runs
// audit_prune() once a day (instance.json audit.retention_days, 365) and logs an hourly checkpoint of the
// head (docs/AUDIT.md).
namespace dive::services {

class ServiceContext;
class TokenAuth;

void add_audit_routes(ServiceContext& ctx, TokenAuth& auth);

}  // namespace dive::services
