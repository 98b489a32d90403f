#include "common/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ohfed::metrics {
namespace {

Family GaugeFamily(const char* name, const char* help, double v) {
  return Family{name, help, "gauge", {{{}, v}}};
}

}  // namespace

void CollectProcess(std::vector<Family>& out) {
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  if (statm >> size >> resident) {
    out.push_back(GaugeFamily("process_resident_memory_bytes",
                              "Resident memory size in bytes.",
                              resident * page));
    out.push_back(GaugeFamily("process_virtual_memory_bytes",
                              "Virtual memory size in bytes.", size * page));
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.push_back(GaugeFamily("process_open_fds",
                              "Number of open file descriptors.", fds));
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(GaugeFamily("process_max_fds",
                              "Maximum number of open file descriptors.",
                              static_cast<double>(limit.rlim_cur)));
  }
  // /proc/self/stat: utime and stime are fields 14 and 15, starttime 22,
  // counted after the command name (which may hold spaces) ends with ')'.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  size_t paren = stat.rfind(')');
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  if (paren != std::string::npos && (uptime_file >> uptime)) {
    std::istringstream fields(stat.substr(paren + 2));
    std::string f;
    double utime = 0, stime = 0, start = 0;
    for (int i = 3; i <= 22 && (fields >> f); ++i) {
      if (i == 14) utime = std::stod(f);
      if (i == 15) stime = std::stod(f);
      if (i == 22) start = std::stod(f);
    }
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    out.push_back(Family{"process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.",
                         "counter",
                         {{{}, (utime + stime) / hz}}});
    const double now = static_cast<double>(time(nullptr));
    out.push_back(GaugeFamily("process_start_time_seconds",
                              "Start time of the process since unix epoch in "
                              "seconds.",
                              now - uptime + start / hz));
  }
}

}  // namespace ohfed::metrics
