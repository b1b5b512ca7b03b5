#include "backup/container.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <array>
#include <climits>
#include <optional>

#include "backup/bytes.hpp"
#include "common/ossl.hpp"
#include "common/random.hpp"

namespace dive::backup {

namespace {

constexpr char kMagic[8] = {'D', 'I', 'V', 'E', '-', 'B', 'A', 'K'};
constexpr size_t kSaltBytes = 32;
constexpr size_t kPrefixBytes = 8;
constexpr size_t kCheckOffset = kHeaderBytes - kTagBytes;  // the key check closes the header
constexpr uint32_t kKeyCheckCounter = 0xFFFFFFFFu;         // never a chunk's counter
constexpr uint32_t kMinChunk = 4096, kMaxChunk = 64u << 20;
constexpr uint32_t kMinIterations = 600'000, kMaxIterations = 100'000'000;
constexpr uint64_t kMaxScryptMemory = 1ull << 30;

using detail::get_be;
using detail::put_be;
void put_u16(std::string& s, uint16_t v) {
  put_be(s, v, 2);
}
void put_u32(std::string& s, uint32_t v) {
  put_be(s, v, 4);
}
void put_u64(std::string& s, uint64_t v) {
  put_be(s, v, 8);
}
uint32_t get_u32(std::string_view s, size_t at) {
  return static_cast<uint32_t>(get_be(s, at, 4));
}
uint16_t get_u16(std::string_view s, size_t at) {
  return static_cast<uint16_t>(get_be(s, at, 2));
}
const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// scrypt's working memory, 128 * r * N * p bytes (plus slack), for EVP_PBE_scrypt's maxmem.
uint64_t scrypt_memory(const KdfParams& k) {
  return 128ull * k.r * (1ull << k.log2_n) * k.p;
}

// Empty when the parameters are acceptable, else why not.
std::string check_kdf(const KdfParams& k) {
  if (k.kdf == Kdf::Scrypt) {
    if (k.log2_n < 10 || k.log2_n > 22) return "scrypt N must be 2^10..2^22";
    if (k.r < 1 || k.r > 32 || k.p < 1 || k.p > 16) return "scrypt r must be 1..32 and p 1..16";
    if (scrypt_memory(k) > kMaxScryptMemory) return "scrypt parameters need more than 1 GiB";
    return "";
  }
  if (k.kdf == Kdf::Pbkdf2Sha256) {
    if (k.iterations < kMinIterations || k.iterations > kMaxIterations)
      return "PBKDF2 iterations must be 600,000..100,000,000";
    return "";
  }
  return "unknown key derivation function";
}

std::string derive_key(std::string_view passphrase, std::string_view salt, const KdfParams& k) {
  std::string key(32, '\0');
  int ok = 0;
  if (k.kdf == Kdf::Scrypt) {
    ok = EVP_PBE_scrypt(passphrase.data(), passphrase.size(), u8(salt), salt.size(), 1ull << k.log2_n, k.r,
                        k.p, scrypt_memory(k) + (1u << 20), reinterpret_cast<unsigned char*>(key.data()),
                        key.size());
  } else {
    ok = PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), u8(salt),
                           static_cast<int>(salt.size()), static_cast<int>(k.iterations), EVP_sha256(),
                           static_cast<int>(key.size()), reinterpret_cast<unsigned char*>(key.data()));
  }
  if (ok != 1) throw std::runtime_error("key derivation failed (out of memory?)");
  return key;
}

std::string nonce_for(std::string_view header, uint32_t counter) {
  std::string n(header.substr(kCheckOffset - kPrefixBytes, kPrefixBytes));
  put_u32(n, counter);
  return n;
}

std::string chunk_aad(std::string_view header, uint64_t index, bool final) {
  std::string aad(header);
  put_u64(aad, index);
  aad.push_back(final ? '\1' : '\0');
  return aad;
}

// AES-256-GCM: ciphertext followed by the 16-byte tag.
std::string gcm_seal(std::string_view key, std::string_view nonce, std::string_view aad,
                     std::string_view in) {
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(in.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, tail = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), u8(key), u8(nonce), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      (!in.empty() && EVP_EncryptUpdate(ctx.get(), o, &len, u8(in), static_cast<int>(in.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + in.size()) != 1)
    throw std::runtime_error("AES-256-GCM encryption failed");
  return out;
}

// The plaintext, or nullopt when the tag does not authenticate.
std::optional<std::string> gcm_open(std::string_view key, std::string_view nonce, std::string_view aad,
                                    std::string_view sealed) {
  if (sealed.size() < kTagBytes) return std::nullopt;
  const size_t n = sealed.size() - kTagBytes;
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(n, '\0');
  std::array<unsigned char, kTagBytes> tag{};
  std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(n), sealed.end(), tag.begin());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, tail = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), u8(key), u8(nonce), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      (n > 0 && EVP_DecryptUpdate(ctx.get(), o, &len, u8(sealed), static_cast<int>(n)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), o + len, &tail) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    ossl::clear_errors();
    return std::nullopt;
  }
  return out;
}

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

// Reads up to n bytes (fewer only at the end of the stream).
size_t read_some(std::istream& in, char* dst, size_t n) {
  size_t got = 0;
  while (got < n && in) {
    in.read(dst + got, static_cast<std::streamsize>(n - got));
    got += static_cast<size_t>(in.gcount());
  }
  if (in.bad()) throw ContainerError(ContainerErrorKind::Io, "the backup file cannot be read");
  return got;
}

}  // namespace

const char* to_string(ContainerErrorKind k) {
  switch (k) {
    case ContainerErrorKind::NotABackup:
      return "not_a_backup";
    case ContainerErrorKind::UnsupportedVersion:
      return "unsupported_version";
    case ContainerErrorKind::BadHeader:
      return "bad_header";
    case ContainerErrorKind::WrongPassphrase:
      return "wrong_passphrase";
    case ContainerErrorKind::Corrupted:
      return "corrupted";
    case ContainerErrorKind::Truncated:
      return "truncated";
    case ContainerErrorKind::TrailingData:
      return "trailing_data";
    case ContainerErrorKind::Io:
      return "io";
  }
  return "unknown";
}

std::string HeaderInfo::describe_kdf() const {
  if (kdf.kdf == Kdf::Scrypt)
    return "scrypt N=2^" + std::to_string(kdf.log2_n) + " r=" + std::to_string(kdf.r) +
           " p=" + std::to_string(kdf.p);
  return "PBKDF2-HMAC-SHA256 " + std::to_string(kdf.iterations) + " iterations";
}

// ------------------------------------------------------------------------------------------------ writer

ContainerWriter::ContainerWriter(std::ostream& out, std::string_view passphrase, const KdfParams& kdf,
                                 uint32_t chunk_size)
    : out_(out), chunk_size_(chunk_size) {
  if (auto why = check_kdf(kdf); !why.empty()) throw std::invalid_argument(why);
  if (chunk_size < kMinChunk || chunk_size > kMaxChunk)
    throw std::invalid_argument("chunk size must be 4 KiB..64 MiB");
  if (passphrase.empty()) throw std::invalid_argument("an empty passphrase");
  const auto salt = secure_random_bytes(kSaltBytes);
  const auto prefix = secure_random_bytes(kPrefixBytes);
  header_.assign(kMagic, sizeof kMagic);
  put_u16(header_, kFormatVersion);
  header_.push_back(static_cast<char>(kdf.kdf));
  header_.push_back('\0');
  if (kdf.kdf == Kdf::Scrypt) {
    put_u32(header_, kdf.log2_n);
    put_u32(header_, kdf.r);
    put_u32(header_, kdf.p);
  } else {
    put_u32(header_, kdf.iterations);
    put_u32(header_, 0);
    put_u32(header_, 0);
  }
  header_.append(salt.begin(), salt.end());
  put_u32(header_, chunk_size);
  header_.append(prefix.begin(), prefix.end());
  key_ = derive_key(passphrase, std::string_view(header_).substr(24, kSaltBytes), kdf);
  header_ += gcm_seal(key_, nonce_for(header_, kKeyCheckCounter), header_, "");
  out_.write(header_.data(), static_cast<std::streamsize>(header_.size()));
  buf_.reserve(chunk_size_);
}

ContainerWriter::~ContainerWriter() {
  cleanse(key_);
  cleanse(buf_);
}

void ContainerWriter::write(std::string_view data) {
  if (finished_) throw std::logic_error("write after finish");
  payload_bytes_ += data.size();
  while (!data.empty()) {
    if (buf_.size() == chunk_size_) seal(false);  // more follows: the full chunk is not the last
    const size_t take = std::min<size_t>(data.size(), chunk_size_ - buf_.size());
    buf_.append(data.substr(0, take));
    data.remove_prefix(take);
  }
}

void ContainerWriter::finish() {
  if (finished_) return;
  seal(true);
  finished_ = true;
  out_.flush();
  if (!out_) throw ContainerError(ContainerErrorKind::Io, "the backup file cannot be written");
}

void ContainerWriter::seal(bool final) {
  if (index_ >= kKeyCheckCounter) throw std::runtime_error("backup too large for one container");
  const std::string sealed = gcm_seal(key_, nonce_for(header_, static_cast<uint32_t>(index_)),
                                      chunk_aad(header_, index_, final), buf_);
  out_.write(sealed.data(), static_cast<std::streamsize>(sealed.size()));
  if (!out_) throw ContainerError(ContainerErrorKind::Io, "the backup file cannot be written");
  cleanse(buf_);
  buf_.clear();
  ++index_;
}

// ------------------------------------------------------------------------------------------------ reader

ContainerReader::ContainerReader(std::istream& in, std::string_view passphrase) : in_(in) {
  header_.resize(kHeaderBytes);
  const size_t got = read_some(in_, header_.data(), kHeaderBytes);
  if (got < sizeof kMagic || header_.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0)
    throw ContainerError(ContainerErrorKind::NotABackup, "not a DIVE backup file (no DIVE-BAK header)");
  if (got < 10 || get_u16(header_, 8) != kFormatVersion)
    throw ContainerError(ContainerErrorKind::UnsupportedVersion,
                         got < 10 ? "the backup file is truncated inside its header"
                                  : "backup format version " + std::to_string(get_u16(header_, 8)) +
                                        " is not one this dive reads (it reads version " +
                                        std::to_string(kFormatVersion) + "): use a newer dive");
  if (got < kHeaderBytes)
    throw ContainerError(ContainerErrorKind::Truncated, "the backup file is truncated inside its header");
  info_.version = kFormatVersion;
  info_.kdf.kdf = static_cast<Kdf>(static_cast<unsigned char>(header_[10]));
  if (info_.kdf.kdf == Kdf::Scrypt) {
    info_.kdf.log2_n = get_u32(header_, 12);
    info_.kdf.r = get_u32(header_, 16);
    info_.kdf.p = get_u32(header_, 20);
    info_.kdf.iterations = 0;
  } else {
    info_.kdf.iterations = get_u32(header_, 12);
  }
  info_.chunk_size = get_u32(header_, 24 + kSaltBytes);
  if (auto why = check_kdf(info_.kdf); !why.empty() || header_[11] != '\0')
    throw ContainerError(ContainerErrorKind::BadHeader, "the backup file's header is damaged (" +
                                                            (why.empty() ? "reserved byte" : why) + ")");
  if (info_.chunk_size < kMinChunk || info_.chunk_size > kMaxChunk)
    throw ContainerError(ContainerErrorKind::BadHeader, "the backup file's header is damaged (chunk size)");
  key_ = derive_key(passphrase, std::string_view(header_).substr(24, kSaltBytes), info_.kdf);
  const std::string_view fields = std::string_view(header_).substr(0, kCheckOffset);
  if (!gcm_open(key_, nonce_for(header_, kKeyCheckCounter), fields,
                std::string_view(header_).substr(kCheckOffset)))
    throw ContainerError(
        ContainerErrorKind::WrongPassphrase,
        "wrong passphrase (the key check of the backup file fails; if the passphrase is right, "
        "the file's header is damaged)");
}

ContainerReader::~ContainerReader() {
  cleanse(key_);
  cleanse(plain_);
}

void ContainerReader::next_chunk() {
  const size_t full = static_cast<size_t>(info_.chunk_size) + kTagBytes;
  std::string rec(full, '\0');
  const size_t got = read_some(in_, rec.data(), full);
  rec.resize(got);
  const std::string idx = std::to_string(index_);
  if (got == 0)
    throw ContainerError(
        ContainerErrorKind::Truncated,
        "the backup file is truncated: it ends after chunk " +
            (index_ == 0 ? std::string("none (no data after the header)") : std::to_string(index_ - 1)) +
            ", before its final chunk");
  // The last record of the file must be the final chunk: shorter than a full one, or followed by nothing.
  const bool last = got < full || in_.peek() == std::char_traits<char>::eof();
  if (in_.bad()) throw ContainerError(ContainerErrorKind::Io, "the backup file cannot be read");
  const std::string nonce = nonce_for(header_, static_cast<uint32_t>(index_));
  auto plain = gcm_open(key_, nonce, chunk_aad(header_, index_, last), rec);
  if (!plain) {
    // Tell the operator what is wrong: the same bytes under the other final flag authenticate when chunks are
    // missing at the end (truncated at a chunk boundary) or when something follows the final chunk.
    const bool other = gcm_open(key_, nonce, chunk_aad(header_, index_, !last), rec).has_value();
    if (last && other)
      throw ContainerError(
          ContainerErrorKind::Truncated,
          "the backup file is truncated: it ends after chunk " + idx + ", which is not its final chunk");
    if (!last && other)
      throw ContainerError(ContainerErrorKind::TrailingData,
                           "the backup file has data after its final chunk (chunk " + idx + ")");
    if (last)
      throw ContainerError(ContainerErrorKind::Corrupted,
                           "chunk " + idx +
                               " (the last in the file) fails authentication: the file is "
                               "truncated inside that chunk, or corrupted");
    throw ContainerError(ContainerErrorKind::Corrupted,
                         "chunk " + idx +
                             " fails authentication: the file is corrupted, or its chunks were "
                             "reordered or removed");
  }
  cleanse(plain_);
  plain_ = std::move(*plain);
  pos_ = 0;
  ++index_;
  final_seen_ = last;
}

size_t ContainerReader::read(char* dst, size_t n) {
  while (pos_ == plain_.size()) {
    if (final_seen_) return 0;
    next_chunk();
  }
  const size_t take = std::min(n, plain_.size() - pos_);
  std::copy_n(plain_.data() + pos_, take, dst);
  pos_ += take;
  return take;
}

void ContainerReader::read_exact(char* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    const size_t k = read(dst + got, n - got);
    if (k == 0)
      throw ContainerError(ContainerErrorKind::Truncated,
                           "the backup's content ends early (its final chunk came too soon)");
    got += k;
  }
}

bool ContainerReader::at_end() {
  while (pos_ == plain_.size()) {
    if (final_seen_) return true;
    next_chunk();
  }
  return false;
}

}  // namespace dive::backup
