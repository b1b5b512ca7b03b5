#include "common/encoding.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <stdexcept>
#include <vector>

#include "common/ossl.hpp"

namespace dive {

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

std::array<int8_t, 256> make_table(const char* alphabet) {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}

std::optional<std::string> decode(std::string_view in, const std::array<int8_t, 256>& table, bool allow_pad) {
  if (allow_pad) {
    size_t pads = 0;
    while (!in.empty() && in.back() == '=' && pads < 2) {
      in.remove_suffix(1);
      ++pads;
    }
    if (pads > 0 && (in.size() + pads) % 4 != 0) return std::nullopt;
  }
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Reject non-canonical encodings (leftover bits must be zero).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// Fetched once (OpenSSL 3 looks an algorithm up on every call given the legacy EVP_sha256() handle:
// "explicit fetching" in its migration guide); kept for the process's life.
const EVP_MD* fetched(const char* name, const EVP_MD* fallback) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md ? md : fallback;
}

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, kB64, true);
}
std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, kB64Url, false);
}

std::optional<std::string> base64_decode(std::string_view text) {
  static const auto table = make_table(kB64);
  return decode(text, table, true);
}
std::optional<std::string> base64url_decode(std::string_view text) {
  static const auto table = make_table(kB64Url);
  return decode(text, table, false);
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string sha256(std::string_view data) {
  static const EVP_MD* md = fetched("SHA2-256", EVP_sha256());
  return digest(md, data);
}
struct Sha256::Ctx {
  ossl::MdCtx md{EVP_MD_CTX_new()};
  // Ready for a new digest. After a failure too, so that no later digest starts from a half-fed one.
  void init() {
    static const EVP_MD* sha = fetched("SHA2-256", EVP_sha256());
    if (!md || EVP_DigestInit_ex2(md.get(), sha, nullptr) != 1)
      throw std::runtime_error("EVP_DigestInit_ex2 failed");
  }
};
Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->init();
}
Sha256::~Sha256() = default;
Sha256& Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1) {
    ctx_->init();
    throw std::runtime_error("EVP_DigestUpdate failed");
  }
  return *this;
}
Sha256::Digest Sha256::finish() {
  Digest out{};
  unsigned int len = 0;
  const bool ok = EVP_DigestFinal_ex(ctx_->md.get(), out.data(), &len) == 1 && len == out.size();
  ctx_->init();
  if (!ok) throw std::runtime_error("EVP_DigestFinal_ex failed");
  return out;
}
std::string sha384(std::string_view data) {
  static const EVP_MD* md = fetched("SHA2-384", EVP_sha384());
  return digest(md, data);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[32];
  size_t len = 0;
  static const char kKeyless[1] = {0};  // EVP_Q_mac wants a non-null key pointer
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.empty() ? kKeyless : key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out, &len) ||
      len != sizeof out)
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '.' || c == '_' || c == '~';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string add_query(const std::string& base,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = base;
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    if (out.back() == '?' || out.back() == '&') sep = '\0';
    if (sep) out += sep;
    out += url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  return out;
}

}  // namespace dive
