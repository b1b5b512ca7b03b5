#pragma once
// Token authentication for a service that accepts bearer tokens (api with audience "dive-api", kas with
// "dive-kas"): the JWKS source (own idp through the "idp" breaker, partners through "federation"), the
// validator with its issuer allow-list kept in step with the instance's policy bundle, the revocation
// runtime (mirror + store) and the authenticator. The context must be connected with database and
// blacklist_redis.
//
//   auto auth = std::make_shared<TokenAuth>(ctx, "dive-api");
//   ctx.keep(auth);
//   ctx.router().add("GET", "/api/x", auth->protect([](net::Request& req, const VerifiedToken& t) {...}));
#include <functional>
#include <memory>
#include <string>

#include "identity/verified_token.hpp"
#include "net/http.hpp"

namespace dive::identity {
class HttpJwksSource;
class TokenValidator;
}  // namespace dive::identity

namespace dive::services {

class Authenticator;
class IssuerAllowList;
class RevocationRuntime;
class ServiceContext;

// Thread-safe once constructed: the handlers protect() returns run on every worker thread; the parts it
// owns lock themselves.
class TokenAuth {
 public:
  TokenAuth(ServiceContext& ctx, std::string audience);
  ~TokenAuth();
  TokenAuth(const TokenAuth&) = delete;
  TokenAuth& operator=(const TokenAuth&) = delete;

  const Authenticator& authenticator() const { return *authenticator_; }
  RevocationRuntime& revocation() { return *revocation_; }
  identity::TokenValidator& validator() { return *validator_; }

  using AuthedHandler = std::function<net::Response(net::Request&, const identity::VerifiedToken&)>;
  // A handler that runs only once the request is authenticated; otherwise the 401/503 answer.
  net::Handler protect(AuthedHandler handler) const;

 private:
  std::unique_ptr<identity::HttpJwksSource> jwks_;
  std::unique_ptr<identity::TokenValidator> validator_;
  std::unique_ptr<RevocationRuntime> revocation_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<IssuerAllowList> issuers_;  // last: its poller stops first
};

}  // namespace dive::services
