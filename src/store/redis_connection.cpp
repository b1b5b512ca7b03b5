#include "store/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

#include "store/error_text.hpp"

namespace dive::store {

namespace {

struct ReplyDeleter {
  void operator()(void* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<void, ReplyDeleter>;

timeval to_timeval(Millis d) {
  const auto ms = std::max<int64_t>(1, d.count());
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// hiredis writes with write(): a peer that went away would raise SIGPIPE and kill the process. As libpq does,
// block SIGPIPE in this thread for the duration of the I/O and swallow one raised by it.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    blocked_ = ::pthread_sigmask(SIG_BLOCK, &block, &old_) == 0;
  }
  ~SigpipeBlock() {
    if (!blocked_) return;
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      const timespec zero{0, 0};
      const int saved = errno;
      ::sigtimedwait(&pipe_only, nullptr, &zero);
      errno = saved;
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
  bool blocked_ = false;
};

RedisReply to_reply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::Error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::Array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(to_reply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::Nil;
  }
  return out;
}

struct Argv {
  explicit Argv(const std::vector<std::string>& args) {
    if (args.empty()) throw std::invalid_argument("redis: empty command");
    for (const auto& a : args) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
};

}  // namespace

std::string redis_endpoint(const RedisConfig& cfg) {
  return "redis '" + cfg.name + "' at " + cfg.host + ":" + std::to_string(cfg.port);
}

RedisConnection::RedisConnection(const RedisConfig& cfg, const std::function<void(int)>& on_socket)
    : endpoint_(redis_endpoint(cfg)), command_timeout_(cfg.command_timeout) {
  ctx_.reset(redisConnectWithTimeout(cfg.host.c_str(), cfg.port, to_timeval(cfg.connect_timeout)));
  if (!ctx_) throw RedisUnavailable(endpoint_ + ": cannot allocate a connection");
  if (ctx_->err) throw RedisUnavailable(endpoint_ + ": cannot connect: " + one_line(ctx_->errstr));
  if (on_socket) on_socket(ctx_->fd);
  redisSetTimeout(ctx_.get(), to_timeval(cfg.command_timeout));
  redisEnableKeepAlive(ctx_.get());
  if (!cfg.password.empty()) {
    RedisReply r =
        cfg.user.empty() ? command({"AUTH", cfg.password}) : command({"AUTH", cfg.user, cfg.password});
    if (r.type == RedisReply::Type::Error) {
      usable_ = false;
      // Redis's answer (WRONGPASS ...) names no secret; redact anyway in case a proxy echoes the command.
      throw RedisUnavailable(endpoint_ + ": authentication failed (" + redact(one_line(r.str), cfg.password) +
                             "); check the configured password");
    }
  }
}

void RedisConnection::ContextDeleter::operator()(redisContext* c) const {
  redisFree(c);
}

RedisConnection::~RedisConnection() = default;

int RedisConnection::fd() const {
  return ctx_ ? ctx_->fd : -1;
}

void RedisConnection::fail(const std::string& what) {
  usable_ = false;
  std::string err = ctx_ && ctx_->err ? one_line(ctx_->errstr) : std::string("connection lost");
  if (ctx_ && ctx_->err == REDIS_ERR_IO &&
      (err.find("temporarily unavailable") != std::string::npos ||
       err.find("timed out") != std::string::npos))
    err = "no reply within " + std::to_string(command_timeout_.count()) + " ms";
  if (ctx_ && ctx_->err == REDIS_ERR_EOF) err = "connection closed by the server";
  throw RedisUnavailable(endpoint_ + ": " + what + ": " + err);
}

RedisReply RedisConnection::command(const std::vector<std::string>& args) {
  if (!usable_) throw RedisUnavailable(endpoint_ + ": connection is no longer usable");
  Argv argv(args);
  SigpipeBlock guard;
  ReplyPtr reply(
      redisCommandArgv(ctx_.get(), static_cast<int>(argv.ptrs.size()), argv.ptrs.data(), argv.lens.data()));
  if (!reply) fail("command failed");
  return to_reply(static_cast<const redisReply*>(reply.get()));
}

void RedisConnection::send(const std::vector<std::string>& args) {
  if (!usable_) throw RedisUnavailable(endpoint_ + ": connection is no longer usable");
  Argv argv(args);
  SigpipeBlock guard;
  if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.ptrs.size()), argv.ptrs.data(),
                             argv.lens.data()) != REDIS_OK)
    fail("cannot send");
  int done = 0;
  while (!done)
    if (redisBufferWrite(ctx_.get(), &done) != REDIS_OK) fail("cannot send");
}

std::vector<RedisReply> RedisConnection::read_available() {
  if (!usable_) throw RedisUnavailable(endpoint_ + ": connection is no longer usable");
  if (redisBufferRead(ctx_.get()) != REDIS_OK) fail("read failed");
  std::vector<RedisReply> out;
  while (true) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_.get(), &raw) != REDIS_OK) fail("protocol error");
    if (!raw) break;
    ReplyPtr reply(raw);
    out.push_back(to_reply(static_cast<const redisReply*>(raw)));
  }
  return out;
}

bool RedisConnection::idle_healthy() const {
  if (!usable_ || !ctx_ || ctx_->err) return false;
  pollfd p{ctx_->fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace dive::store
