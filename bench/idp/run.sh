#!/usr/bin/env bash
# bench/idp/run.sh — wrk against the idp of a deployed hub over keep-alive HTTPS: client_credentials
# tokens (RS256 signing, no database) and password logins (argon2id + database).
#   bench/idp/run.sh [seconds] [connections]
# Uses $DIVE_HOME's hub (default .dive/); deploy it first (./dive hub deploy). wrk does not verify the
# certificate. The secrets come from the hub's secrets.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
secs="${1:-15}"
conns="${2:-32}"
home="${DIVE_HOME:-$root/.dive}"
inst="$home/instances/usa"
port="$(jq -r .ports.idp "$inst/instance.json")"
realm="$(jq -r .realm "$inst/instance.json")"
url="https://localhost:$port"
export TOKEN_PATH="/realms/$realm/protocol/openid-connect/token"
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/bootstrap installs it)" >&2; exit 1; }
api_secret="$(jq -r '.clients["dive-api"].secret' "$inst/secrets.json")"
password="$(jq -r .test_user_password "$inst/secrets.json")"

echo "== client_credentials (dive-api, client_secret_basic), $conns connections, ${secs}s"
FORM="grant_type=client_credentials" AUTH="Basic $(printf '%s:%s' dive-api "$api_secret" | base64 -w0)" \
  wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$here/token.lua" "$url"
echo
echo "== password grant (dive-cli, testuser-usa-1..5 and contractor.bah in turn, argon2id), 8 connections, ${secs}s"
forms=""
for u in testuser-usa-1 testuser-usa-2 testuser-usa-3 testuser-usa-4 testuser-usa-5 contractor.bah; do
  forms="$forms|grant_type=password&client_id=dive-cli&username=$u&password=$password"
done
FORMS="${forms#|}" AUTH="" wrk -t1 -c8 -d"${secs}s" --latency -s "$here/token.lua" "$url"
