#pragma once
// The supervisor's Unix control socket: one JSON request per line, one JSON response per line.
// Requests: {"cmd":"status"} | {"cmd":"stop","service":S} | {"cmd":"start","service":S} |
//           {"cmd":"restart","service":S} | {"cmd":"shutdown"}
#include <chrono>
#include <filesystem>
#include <optional>

#include "common/json.hpp"

namespace dive::orch {

// Sends one request and returns the response; nullopt when no supervisor answers (not running, stale
// socket) within the timeout.
std::optional<Json> supervisor_request(const std::filesystem::path& socket, const Json& request,
                                       std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// Server side: a listening socket (created with mode 0600, replacing a stale one). Returns the fd.
int control_listen(const std::filesystem::path& socket);

}  // namespace dive::orch
