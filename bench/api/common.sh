# bench/api/common.sh — sourced by run.sh and ab.sh. Given $home (DIVE_HOME) and $dive (the binary), sets
# inst, ca, idp, api from the hub's instance.json and defines:
#   bench_token               an access token of testuser-usa-5 with OTP (TOP_SECRET, AAL2), on stdout
#   readable_ids TOKEN FILE   every id that user may read (all pages of the list), one per line, into FILE
inst="$home/instances/usa"
ca="$home/ca/rootCA.pem"
idp="$(jq -r .issuer "$inst/instance.json")"
api="$(jq -r .urls.api "$inst/instance.json")"

bench_token() {
  local password otp
  password="$(jq -r .test_user_password "$inst/secrets.json")"
  otp="$(DIVE_HOME="$home" "$dive" hub users otp testuser-usa-5)"
  local token
  token="$(curl -s --cacert "$ca" "$idp/protocol/openid-connect/token" -d grant_type=password \
    -d client_id=dive-cli -d username=testuser-usa-5 --data-urlencode "password=$password" -d "totp=$otp" |
    jq -r '.access_token // empty')"
  if [ -z "$token" ]; then
    echo "no token for testuser-usa-5 (a one-time code is accepted once per 30 s: wait and run again)" >&2
    return 1
  fi
  echo "$token"
}

readable_ids() {
  local token="$1" out="$2" cursor="" page
  : >"$out"
  while :; do
    page="$(curl -s --cacert "$ca" -H "Authorization: Bearer $token" \
      "$api/api/resources?limit=100${cursor:+&cursor=$cursor}")"
    jq -r '.resources[].resourceId' <<<"$page" >>"$out"
    cursor="$(jq -r '.nextCursor // empty' <<<"$page")"
    [ -n "$cursor" ] || break
  done
}
