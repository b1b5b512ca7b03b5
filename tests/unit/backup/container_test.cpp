// The backup container over in-memory streams: round trips of every size around the chunk boundaries, and
// each way a file can be wrong (passphrase, header, a flipped byte, chunks reordered, removed or appended,
// truncation at every chunk boundary and inside chunks) refused with its own kind.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "backup/container.hpp"

using namespace dive::backup;

namespace {

constexpr uint32_t kChunk = 4096;
const std::string kPass = "correct horse battery staple";

std::string payload(size_t n, unsigned seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string seal(const std::string& data, const KdfParams& kdf = KdfParams::for_tests(),
                 uint32_t chunk = kChunk, size_t piece = 1000) {
  std::ostringstream out;
  ContainerWriter w(out, kPass, kdf, chunk);
  for (size_t at = 0; at < data.size(); at += piece) w.write(std::string_view(data).substr(at, piece));
  w.finish();
  return out.str();
}

std::string open_all(const std::string& file, const std::string& pass = kPass) {
  std::istringstream in(file);
  ContainerReader r(in, pass);
  std::string out;
  char buf[777];
  while (size_t n = r.read(buf, sizeof buf)) out.append(buf, n);
  return out;
}

// The kind of ContainerError that reading `file` throws (nullopt: it read fine).
std::optional<ContainerErrorKind> refusal(const std::string& file, std::string* message = nullptr) {
  try {
    open_all(file);
    return std::nullopt;
  } catch (const ContainerError& e) {
    if (message) *message = e.what();
    return e.kind();
  }
}

size_t record(size_t i) {  // offset of chunk i
  return kHeaderBytes + i * (kChunk + kTagBytes);
}

}  // namespace

TEST(BackupContainer, RoundTripsEverySizeAroundChunkBoundaries) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{kChunk - 1}, size_t{kChunk}, size_t{kChunk + 1},
                   size_t{2 * kChunk}, size_t{3 * kChunk + 17}}) {
    const std::string data = payload(n);
    const std::string file = seal(data);
    EXPECT_EQ(open_all(file), data) << n;
    const size_t chunks = n == 0 ? 1 : (n + kChunk - 1) / kChunk;
    EXPECT_EQ(file.size(), kHeaderBytes + n + chunks * kTagBytes) << n;
  }
}

TEST(BackupContainer, WritesOfAnyShapeGiveTheSameContent) {
  const std::string data = payload(5 * kChunk + 3);
  EXPECT_EQ(open_all(seal(data, KdfParams::for_tests(), kChunk, 1)), data);
  EXPECT_EQ(open_all(seal(data, KdfParams::for_tests(), kChunk, data.size())), data);
}

TEST(BackupContainer, TwoFilesOfTheSameContentShareNoBytesAfterTheMagic) {
  const std::string data = payload(3 * kChunk);
  const std::string a = seal(data), b = seal(data);
  EXPECT_EQ(a.substr(0, 24), b.substr(0, 24));    // magic, version, KDF parameters
  EXPECT_NE(a.substr(24, 32), b.substr(24, 32));  // salt
  EXPECT_NE(a.substr(kHeaderBytes), b.substr(kHeaderBytes));
}

TEST(BackupContainer, Pbkdf2RoundTripAndItsMinimum) {
  KdfParams k;
  k.kdf = Kdf::Pbkdf2Sha256;
  k.iterations = 600'000;
  const std::string data = payload(kChunk + 5);
  const std::string file = seal(data, k);
  EXPECT_EQ(open_all(file), data);
  std::istringstream in(file);
  ContainerReader r(in, kPass);
  EXPECT_EQ(r.header().describe_kdf(), "PBKDF2-HMAC-SHA256 600000 iterations");
  k.iterations = 599'999;
  std::ostringstream out;
  EXPECT_THROW(ContainerWriter(out, kPass, k, kChunk), std::invalid_argument);
}

TEST(BackupContainer, TheDefaultKdfIsScryptAtTwoToTheSeventeen) {
  const std::string file = seal("x", KdfParams{});
  std::istringstream in(file);
  ContainerReader r(in, kPass);
  EXPECT_EQ(r.header().describe_kdf(), "scrypt N=2^17 r=8 p=1");
  EXPECT_EQ(r.header().chunk_size, kChunk);
}

TEST(BackupContainer, AWrongPassphraseIsNamedAsSuch) {
  const std::string file = seal(payload(100));
  std::istringstream in(file);
  try {
    ContainerReader r(in, "not the passphrase");
    FAIL() << "accepted";
  } catch (const ContainerError& e) {
    EXPECT_EQ(e.kind(), ContainerErrorKind::WrongPassphrase);
    EXPECT_NE(std::string(e.what()).find("wrong passphrase"), std::string::npos);
  }
}

TEST(BackupContainer, HeaderDamageIsRefusedBeforeAnyChunk) {
  const std::string file = seal(payload(2 * kChunk));
  auto with = [&](size_t at, char v) {
    std::string f = file;
    f[at] = v;
    return refusal(f);
  };
  EXPECT_EQ(with(0, 'X'), ContainerErrorKind::NotABackup);
  EXPECT_EQ(with(9, 2), ContainerErrorKind::UnsupportedVersion);  // version 2
  EXPECT_EQ(with(10, 9), ContainerErrorKind::BadHeader);          // unknown KDF
  EXPECT_EQ(with(15, 40), ContainerErrorKind::BadHeader);         // N = 2^40
  EXPECT_EQ(with(11, 1), ContainerErrorKind::BadHeader);          // reserved byte
  EXPECT_EQ(with(15, 11), ContainerErrorKind::WrongPassphrase);   // another valid N: another key
  EXPECT_EQ(with(30, static_cast<char>(file[30] ^ 1)), ContainerErrorKind::WrongPassphrase);  // salt
  EXPECT_EQ(with(kHeaderBytes - 20, static_cast<char>(file[kHeaderBytes - 20] ^ 1)),
            ContainerErrorKind::WrongPassphrase);  // nonce prefix
  EXPECT_EQ(with(kHeaderBytes - 1, static_cast<char>(file[kHeaderBytes - 1] ^ 1)),
            ContainerErrorKind::WrongPassphrase);  // key check
  EXPECT_EQ(refusal(""), ContainerErrorKind::NotABackup);
  EXPECT_EQ(refusal(file.substr(0, 40)), ContainerErrorKind::Truncated);
}

TEST(BackupContainer, EveryFlippedByteOfEveryChunkIsRefused) {
  const std::string file = seal(payload(2 * kChunk + 100));
  // Every byte of the body would be slow with scrypt per read; step through each chunk's ciphertext and tag.
  for (size_t at = kHeaderBytes; at < file.size(); at += 97) {
    std::string f = file;
    f[at] = static_cast<char>(f[at] ^ 0x40);
    std::string msg;
    EXPECT_EQ(refusal(f, &msg), ContainerErrorKind::Corrupted) << at;
    EXPECT_NE(msg.find("fails authentication"), std::string::npos) << msg;
  }
  std::string last = file;
  last.back() = static_cast<char>(last.back() ^ 1);  // the final tag
  EXPECT_EQ(refusal(last), ContainerErrorKind::Corrupted);
}

TEST(BackupContainer, ReorderedOrRemovedChunksAreRefused) {
  const std::string data = payload(4 * kChunk + 10);  // chunks 0..3 full, 4 final
  const std::string file = seal(data);
  const size_t full = kChunk + kTagBytes;
  auto chunk = [&](size_t i) { return file.substr(record(i), i == 4 ? std::string::npos : full); };
  std::string swapped = file.substr(0, kHeaderBytes) + chunk(1) + chunk(0) + chunk(2) + chunk(3) + chunk(4);
  std::string msg;
  EXPECT_EQ(refusal(swapped, &msg), ContainerErrorKind::Corrupted);
  EXPECT_NE(msg.find("chunk 0"), std::string::npos) << msg;
  std::string removed = file.substr(0, kHeaderBytes) + chunk(0) + chunk(2) + chunk(3) + chunk(4);
  EXPECT_EQ(refusal(removed, &msg), ContainerErrorKind::Corrupted);
  EXPECT_NE(msg.find("chunk 1"), std::string::npos) << msg;
  std::string final_moved = file.substr(0, kHeaderBytes) + chunk(0) + chunk(4) + chunk(1);
  EXPECT_TRUE(refusal(final_moved).has_value());
}

TEST(BackupContainer, TruncationAtEveryChunkBoundaryIsNamedTruncated) {
  const std::string file = seal(payload(5 * kChunk));  // five full chunks, the fifth final
  for (size_t i = 0; i < 5; ++i) {
    std::string msg;
    EXPECT_EQ(refusal(file.substr(0, record(i)), &msg), ContainerErrorKind::Truncated) << i;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  }
  EXPECT_FALSE(refusal(file).has_value());
}

TEST(BackupContainer, TruncationInsideAChunkIsRefused) {
  const std::string file = seal(payload(3 * kChunk + 500));
  for (size_t cut : {record(0) + 1, record(1) + 10, record(2) + kChunk, record(3) + 100, file.size() - 1}) {
    std::string msg;
    auto kind = refusal(file.substr(0, cut), &msg);
    ASSERT_TRUE(kind.has_value()) << cut;
    EXPECT_TRUE(*kind == ContainerErrorKind::Corrupted || *kind == ContainerErrorKind::Truncated) << cut;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  }
}

TEST(BackupContainer, DataAfterTheFinalChunkIsRefused) {
  const std::string file = seal(payload(2 * kChunk));  // the second full chunk is final
  const std::string again = file.substr(record(1), kChunk + kTagBytes);
  EXPECT_EQ(refusal(file + again), ContainerErrorKind::TrailingData);
  EXPECT_TRUE(refusal(file + "x").has_value());
  const std::string short_file = seal(payload(kChunk + 10));
  EXPECT_TRUE(refusal(short_file + std::string(kChunk + kTagBytes, 'A')).has_value());
}

TEST(BackupContainer, ReadExactStopsAtTheEndOfThePayload) {
  const std::string file = seal(payload(100));
  std::istringstream in(file);
  ContainerReader r(in, kPass);
  char buf[200];
  r.read_exact(buf, 60);
  EXPECT_FALSE(r.at_end());
  try {
    r.read_exact(buf, 60);
    FAIL();
  } catch (const ContainerError& e) {
    EXPECT_EQ(e.kind(), ContainerErrorKind::Truncated);
  }
}

TEST(BackupContainer, TheWriterRefusesParametersTheReaderWouldRefuse) {
  std::ostringstream out;
  EXPECT_THROW(ContainerWriter(out, kPass, KdfParams::for_tests(), 100), std::invalid_argument);
  EXPECT_THROW(ContainerWriter(out, "", KdfParams::for_tests(), kChunk), std::invalid_argument);
  KdfParams k = KdfParams::for_tests();
  k.log2_n = 9;
  EXPECT_THROW(ContainerWriter(out, kPass, k, kChunk), std::invalid_argument);
}
