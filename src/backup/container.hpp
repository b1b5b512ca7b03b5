#pragma once
// The encrypted container of a backup file (docs/BACKUP.md, "File format"): a plaintext header (magic, format
// version, KDF and its parameters, salt, chunk size, nonce prefix, a key check), then the payload as
// AES-256-GCM chunks of `chunk_size` bytes (the last one shorter), each authenticated together with the whole
// header, its index and whether it is the final chunk. A wrong passphrase, a changed byte anywhere, chunks
// reordered, removed or appended, and a truncated file are each refused with their own ContainerError.
//
// Streaming: the writer holds one chunk, the reader one chunk; neither ever holds the payload.
// Not thread-safe: one object per stream, used by one thread.
#include <cstdint>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dive::backup {

enum class Kdf : uint8_t { Scrypt = 1, Pbkdf2Sha256 = 2 };

struct KdfParams {
  Kdf kdf = Kdf::Scrypt;
  // scrypt: N = 2^log2_n, r, p (default 2^17, 8, 1: 128 MiB, the OWASP recommendation).
  uint32_t log2_n = 17, r = 8, p = 1;
  uint32_t iterations = 600'000;  // PBKDF2-HMAC-SHA256 (at least 600,000)
  // Cheap scrypt parameters for tests only (2^10): files written with them are read like any other.
  static KdfParams for_tests() { return KdfParams{Kdf::Scrypt, 10, 8, 1, 0}; }
};

inline constexpr uint32_t kDefaultChunkSize = 1u << 20;  // 1 MiB
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kHeaderBytes = 84;
inline constexpr size_t kTagBytes = 16;

// Why a file was refused.
enum class ContainerErrorKind {
  NotABackup,          // no DIVE backup magic
  UnsupportedVersion,  // a format version this binary does not know (a newer dive wrote it)
  BadHeader,           // header fields out of range
  WrongPassphrase,     // the key check fails: wrong passphrase (or a damaged salt / KDF parameters)
  Corrupted,           // a chunk fails authentication: changed, reordered or removed
  Truncated,           // the file ends before its final chunk
  TrailingData,        // bytes after the final chunk
  Io,                  // the stream could not be read or written
};
const char* to_string(ContainerErrorKind k);

// An error with a kind for callers and tests; what() says it to an operator.
template <class Kind>
class KindError : public std::runtime_error {
 public:
  KindError(Kind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};
using ContainerError = KindError<ContainerErrorKind>;

// What the header says (for `backup verify` and tests).
struct HeaderInfo {
  uint16_t version = 0;
  KdfParams kdf;
  uint32_t chunk_size = 0;
  std::string describe_kdf() const;  // "scrypt N=2^17 r=8 p=1" / "PBKDF2-HMAC-SHA256 600000 iterations"
};

class ContainerWriter {
 public:
  // Derives the key (this takes the KDF's time) and writes the header. Throws std::invalid_argument for
  // parameters the reader would refuse (PBKDF2 under 600,000 iterations, a chunk size outside 4 KiB..64 MiB).
  ContainerWriter(std::ostream& out, std::string_view passphrase, const KdfParams& kdf = {},
                  uint32_t chunk_size = kDefaultChunkSize);
  ~ContainerWriter();
  ContainerWriter(const ContainerWriter&) = delete;
  ContainerWriter& operator=(const ContainerWriter&) = delete;

  void write(std::string_view data);
  // Seals what is buffered as the final chunk. Required: a container without it reads as truncated.
  void finish();
  uint64_t payload_bytes() const { return payload_bytes_; }
  uint64_t chunks() const { return index_; }

 private:
  void seal(bool final);
  std::ostream& out_;
  std::string header_, key_, buf_;
  uint32_t chunk_size_;
  uint64_t index_ = 0, payload_bytes_ = 0;
  bool finished_ = false;
};

class ContainerReader {
 public:
  // Reads and checks the header and the key check: throws ContainerError (NotABackup, UnsupportedVersion,
  // BadHeader, WrongPassphrase, Truncated).
  ContainerReader(std::istream& in, std::string_view passphrase);
  ~ContainerReader();
  ContainerReader(const ContainerReader&) = delete;
  ContainerReader& operator=(const ContainerReader&) = delete;

  // Up to n authenticated payload bytes; 0 once the final chunk has been read. Never returns a byte of a
  // chunk before that chunk's tag has been checked. Throws ContainerError (Corrupted, Truncated,
  // TrailingData, Io).
  size_t read(char* dst, size_t n);
  // Reads exactly n bytes or throws ContainerError(Truncated) (the payload ended early).
  void read_exact(char* dst, size_t n);
  bool at_end();  // the final chunk has been read and consumed
  const HeaderInfo& header() const { return info_; }
  uint64_t chunks_read() const { return index_; }

 private:
  void next_chunk();
  std::istream& in_;
  std::string header_, key_, plain_;
  HeaderInfo info_;
  size_t pos_ = 0;
  uint64_t index_ = 0;
  bool final_seen_ = false;
};

}  // namespace dive::backup
