// The orchestrator's side of backups without processes: the passphrase rules, members described from files,
// scratch folders, and verify_backup's refusals (each with its kind) on files built here.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "backup/archive.hpp"
#include "common/fs.hpp"
#include "orchestrator/backup.hpp"
#include "orchestrator/backup_files.hpp"
#include "orchestrator/restore.hpp"
#include "store/embedded_migrations.hpp"

using namespace dive;
using namespace dive::orch;

namespace {

const std::string kPass = "unit test passphrase";

// A backup file holding `members` under `manifest` (its member list filled in here).
std::string build(Json manifest, const std::vector<std::pair<std::string, std::string>>& members,
                  const std::string& pass = kPass) {
  manifest["members"] = Json::array();
  for (const auto& [name, body] : members) {
    backup::Sha256 h;
    h.update(body);
    manifest["members"].push_back({{"name", name}, {"size", body.size()}, {"sha256", h.hex()}});
  }
  const auto m = backup::Manifest::from_json(manifest);
  std::ostringstream out;
  backup::ContainerWriter c(out, pass, backup::KdfParams::for_tests(), 4096);
  backup::ArchiveWriter w(c, m);
  for (const auto& [name, body] : members) {
    std::istringstream in(body);
    w.add(name, in);
  }
  w.finish();
  c.finish();
  return out.str();
}

Json good_manifest() {
  return Json{{"format", "dive-backup"},
              {"instance", "TST"},
              {"role", "spoke"},
              {"schema_revision", known_schema_revision()}};
}

std::string refusal_kind(const fs::path& file, const std::string& pass = kPass) {
  try {
    verify_backup(file, pass);
    return "";
  } catch (const RestoreRefused& e) {
    return e.kind();
  }
}

}  // namespace

TEST(BackupPassphrase, FromAFileItsFirstLineElseTheEnvironmentAndNeverShort) {
  TempDir d("dive-pass");
  write_file_atomic(d.path() / "p", "first line passphrase\r\nsecond line\n", 0600);
  EXPECT_EQ(read_backup_passphrase((d.path() / "p").string()), "first line passphrase");
  ::setenv("DIVE_BACKUP_PASSPHRASE", "from the environment", 1);
  EXPECT_EQ(read_backup_passphrase(""), "from the environment");
  EXPECT_EQ(std::getenv("DIVE_BACKUP_PASSPHRASE"), nullptr) << "left for child processes to inherit";
  ::setenv("DIVE_BACKUP_PASSPHRASE", "short", 1);
  EXPECT_THROW(read_backup_passphrase(""), std::invalid_argument);
  ::unsetenv("DIVE_BACKUP_PASSPHRASE");
  EXPECT_THROW(read_backup_passphrase(""), std::invalid_argument);
  EXPECT_THROW(read_backup_passphrase((d.path() / "missing").string()), std::invalid_argument);
}

TEST(BackupFiles, MembersAreSortedWithSizeChecksumAndMode) {
  TempDir d("dive-members");
  ensure_dir(d.path() / "instance" / "certs", 0755);
  write_file_atomic(d.path() / "instance" / "secrets.json", "{}", 0600);
  write_file_atomic(d.path() / "instance" / "certs" / "cert.pem", "cert", 0644);
  write_file_atomic(d.path() / "revocations.json", "[]", 0600);
  auto inst = describe_members(d.path(), "instance");
  ASSERT_EQ(inst.size(), 2u);
  EXPECT_EQ(inst[0].name, "instance/certs/cert.pem");
  EXPECT_EQ(inst[0].size, 4u);
  EXPECT_EQ(inst[0].mode, 0644u);
  EXPECT_EQ(inst[1].name, "instance/secrets.json");
  EXPECT_EQ(inst[1].mode, 0600u);
  EXPECT_EQ(inst[1].sha256, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(describe_members(d.path(), "revocations.json").size(), 1u);
  EXPECT_TRUE(describe_members(d.path(), "ca").empty());
}

TEST(BackupFiles, ScratchFoldersGoAwayAndFailedOutputIsRemoved) {
  TempDir d("dive-scratch");
  fs::path kept;
  {
    ScratchDir s(d.path() / "s");
    kept = s.path();
    write_file_atomic(kept / "x", "x", 0600);
    EXPECT_EQ(fs::status(kept).permissions() & fs::perms::all, fs::perms::owner_all);
  }
  EXPECT_FALSE(fs::exists(kept));
  {
    RemoveOnFailure r(d.path() / "partial");
    write_file_atomic(d.path() / "partial", "half", 0600);
  }
  EXPECT_FALSE(fs::exists(d.path() / "partial"));
  {
    RemoveOnFailure r(d.path() / "done");
    write_file_atomic(d.path() / "done", "whole", 0600);
    r.release();
  }
  EXPECT_TRUE(fs::exists(d.path() / "done"));
}

TEST(BackupFiles, AnExistingFolderKeepsItsModeAMissingOneGetsOurs) {
  TempDir d("dive-dirs");
  ::chmod(d.path().c_str(), 01777);  // like /tmp
  create_missing_dir(d.path(), 0700);
  EXPECT_EQ(fs::status(d.path()).permissions() & fs::perms::mask, static_cast<fs::perms>(01777));
  create_missing_dir(d.path() / "new", 0700);
  EXPECT_EQ(fs::status(d.path() / "new").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(BackupVerify, AGoodFileIsDescribedAndEveryBadOneRefusedWithItsKind) {
  EXPECT_EQ(known_schema_revision(), store::instance_migrations().back().version);
  TempDir d("dive-verify");
  const fs::path f = d.path() / "b.divebak";
  write_file_atomic(f, build(good_manifest(), {{"instance/instance.json", "{}"}, {"db/toc.dat", "toc"}}),
                    0600);
  auto rep = verify_backup(f, kPass);
  EXPECT_EQ(rep.manifest["instance"], "TST");
  EXPECT_EQ(rep.payload, 5u);
  EXPECT_EQ(rep.bytes, fs::file_size(f));
  EXPECT_EQ(rep.chunks, 1u);
  EXPECT_EQ(refusal_kind(f, "another passphrase"), "wrong_passphrase");

  Json newer = good_manifest();
  newer["schema_revision"] = known_schema_revision() + 1;
  write_file_atomic(f, build(newer, {{"a", "1"}}), 0600);
  EXPECT_EQ(refusal_kind(f), "newer_schema");
  Json foreign = good_manifest();
  foreign["format"] = "something else";
  write_file_atomic(f, build(foreign, {}), 0600);
  EXPECT_EQ(refusal_kind(f), "bad_manifest");

  std::string bytes = build(good_manifest(), {{"a", std::string(10000, 'a')}});
  write_file_atomic(f, bytes.substr(0, bytes.size() - 10), 0600);
  EXPECT_EQ(refusal_kind(f), "corrupted");  // inside the final chunk: truncated or corrupted
  write_file_atomic(f, bytes.substr(0, backup::kHeaderBytes + 4096 + backup::kTagBytes), 0600);
  EXPECT_EQ(refusal_kind(f), "truncated");  // at a chunk boundary
  bytes[backup::kHeaderBytes + 7] ^= 1;
  write_file_atomic(f, bytes, 0600);
  EXPECT_EQ(refusal_kind(f), "corrupted");
  write_file_atomic(f, "not a backup at all", 0600);
  EXPECT_EQ(refusal_kind(f), "not_a_backup");
  EXPECT_EQ(refusal_kind(d.path() / "missing"), "unreadable");
}
