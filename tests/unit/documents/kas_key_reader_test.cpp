// When the kas reads its keys again, over a fake clock: the periodic refresh (until loaded, then every
// 30 s) and the re-read for an unknown kid (at once, at most once a second). No database, no sleeping: the
// load is a function that installs keys the way KasKeyCache::refresh does after reading them.
#include "documents/kas_key_reader.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace dive;
using namespace dive::documents;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const ztdf::PrivateKey> a_key() {
  static const auto k = std::make_shared<const ztdf::PrivateKey>(ztdf::PrivateKey::generate_rsa(2048));
  return k;
}

// The database as the kas sees it: the kids it holds (all with one key), or down.
struct FakeKeyStore {
  std::vector<std::string> kids;
  bool down = false;
  int loads = 0;
  KasKeyReader::Load load() {
    return [this](KasKeyCache& cache) {
      ++loads;
      if (down) throw std::runtime_error("database unavailable");
      std::unordered_map<std::string, std::shared_ptr<const ztdf::PrivateKey>> keys;
      for (const auto& kid : kids) keys[kid] = a_key();
      cache.install(std::move(keys), kids.empty() ? "" : kids.back());
    };
  }
};

}  // namespace

TEST(KasKeyReader, LoadsUntilKeysAreLoadedThenEveryRefreshInterval) {
  FakeClock clock;
  FakeKeyStore db;
  KasKeyCache cache("kek");
  KasKeyReader reader(cache, db.load(), clock);
  EXPECT_EQ(reader.timing().retry_every, 2000ms);
  db.down = true;
  EXPECT_THROW(reader.refresh_if_due(), std::runtime_error);
  clock.advance(2000ms);  // the next run of the periodic task
  db.down = false;
  db.kids = {"kas-1"};
  reader.refresh_if_due();
  EXPECT_EQ(db.loads, 2) << "retried at every run until loaded";
  EXPECT_EQ(cache.active_kid(), "kas-1");
  for (int run = 1; run < 15; ++run) {
    clock.advance(2000ms);
    reader.refresh_if_due();
  }
  EXPECT_EQ(db.loads, 2) << "loaded 28 s ago: not yet";
  db.kids = {"kas-1", "kas-2"};  // a rotation
  clock.advance(2000ms);
  reader.refresh_if_due();
  EXPECT_EQ(db.loads, 3) << "30 s after the last load";
  EXPECT_EQ(cache.active_kid(), "kas-2");
  // A failed refresh is tried again at the next run (the keys loaded so far stay).
  clock.advance(30000ms);
  db.down = true;
  EXPECT_THROW(reader.refresh_if_due(), std::runtime_error);
  EXPECT_EQ(cache.size(), 2u);
  db.down = false;
  clock.advance(2000ms);
  reader.refresh_if_due();
  EXPECT_EQ(db.loads, 5);
}

TEST(KasKeyReader, AnUnknownKidReReadsTheKeysAtOnceAtMostOnceASecond) {
  FakeClock clock;
  FakeKeyStore db;
  db.kids = {"kas-1"};
  KasKeyCache cache("kek");
  KasKeyReader reader(cache, db.load(), clock);
  reader.refresh_if_due();
  ASSERT_EQ(db.loads, 1);
  EXPECT_TRUE(reader.private_key("kas-1"));
  EXPECT_EQ(db.loads, 1) << "a known kid reads nothing";
  // A rotation made moments ago: the first request for the new kid reads the keys and finds it.
  db.kids = {"kas-1", "kas-2"};
  EXPECT_TRUE(reader.private_key("kas-2"));
  EXPECT_EQ(db.loads, 2);
  // A kid that does not exist: a re-read at most once a second, whatever the number of requests.
  EXPECT_FALSE(reader.private_key("nope"));
  EXPECT_EQ(db.loads, 2) << "re-read 0 ms ago";
  clock.advance(999ms);
  EXPECT_FALSE(reader.private_key("nope"));
  EXPECT_EQ(db.loads, 2);
  clock.advance(1ms);
  EXPECT_FALSE(reader.private_key("nope"));
  EXPECT_EQ(db.loads, 3);
  // A failed re-read answers with what is loaded (the caller refuses the request), and is not retried
  // within the second either.
  clock.advance(1000ms);
  db.down = true;
  EXPECT_FALSE(reader.private_key("kas-3"));
  EXPECT_TRUE(reader.private_key("kas-2"));
  EXPECT_EQ(db.loads, 4);
  db.down = false;
  db.kids = {"kas-1", "kas-2", "kas-3"};
  EXPECT_FALSE(reader.private_key("kas-3"));
  clock.advance(1000ms);
  EXPECT_TRUE(reader.private_key("kas-3"));
  EXPECT_EQ(db.loads, 5);
}
