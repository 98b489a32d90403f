#include "agent/cli.h"

#include <cstdio>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "agent/client.h"
#include "common/catalogue.h"
#include "common/csv.h"

namespace ohfed::agent {
namespace {

constexpr char kFilesHelp[] = R"(
Getting started: the agent (ohfed-agent) runs on a trust server and keeps
your records; this command feeds it and shows what it has sent. Post ids,
staff references and event dates never leave the agent: only monthly
summaries are sent to the aggregator.

Import files (CSV with a header row; columns in any order):
  staffing  period,staff_group,wte,basis,post_id
            one row per post (post_id set, 0 < wte <= 1.0) or per staff
            group total (post_id empty, 0 <= wte <= 1000); period YYYY-MM;
            basis employed (default), locum, bank, contracted or vacant
  activity  date,activity,client_org,subject_ref,wait_days
            one row per event; date YYYY-MM-DD; client_org defaults to your
            trust; subject_ref (to count distinct staff seen) and wait_days
            (referral to first appointment) are optional
  profile   year,question,answer
            the annual service return: yes/no answers, host_type and
            reporting_line (one option name), staff_served (a number)
Staff groups, activities and questions are the codes of the catalogue, e.g.
staffing.wte.nurse_general -> staff_group nurse_general.

An import is all or nothing unless --skip-invalid; every bad row is listed
with its line, column and reason. A staffing or activity file replaces the
months it contains, so re-importing is harmless and a corrected file changes
only the months that differ.

Examples:
  ohfed import staffing staffing.csv
  ohfed set 2026-03 staffing.wte.nurse_general 2.5
  ohfed sync --timeout 60
  ohfed status
)";

[[noreturn]] void Fail(absl::string_view command, absl::string_view reason) {
  std::cerr << "ohfed " << command << ": " << reason << "\n";
  throw CLI::RuntimeError(1);
}

std::string FormatMillis(int64_t ms) {
  if (ms == 0) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string FormatProblem(const v1::RowProblem& p) {
  std::string where = p.line() ? absl::StrCat("line ", p.line()) : "";
  if (!p.column().empty()) {
    absl::StrAppend(&where, where.empty() ? "" : ", ", "column ", p.column());
  }
  return where.empty() ? p.reason() : absl::StrCat(where, ": ", p.reason());
}

AgentClient Connect(const std::string& command, const std::string& socket) {
  absl::StatusOr<AgentClient> c = AgentClient::Connect(socket);
  if (!c.ok()) Fail(command, c.status().message());
  return std::move(*c);
}

void PrintPeriods(const google::protobuf::RepeatedPtrField<v1::PeriodState>& ps) {
  std::printf("%-8s  %-8s  %15s  %15s  %8s  %s\n", "PERIOD", "STATE",
              "REVISION", "ACKED", "MEASURES", "REASON");
  for (const v1::PeriodState& p : ps) {
    std::string reason = p.reason();
    if (!p.upstream_reason().empty()) {  // refused beyond our aggregator
      absl::StrAppend(&reason, reason.empty() ? "" : "; ",
                      "refused upstream: ", p.upstream_reason());
    }
    std::printf("%-8s  %-8s  %15llu  %15llu  %8u  %s\n", p.period().c_str(),
                p.state().c_str(), static_cast<unsigned long long>(p.revision()),
                static_cast<unsigned long long>(p.acked_revision()), p.measures(),
                reason.c_str());
  }
}

void AddImport(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto kind = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto skip = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "import", "import a staffing, activity or profile CSV file");
  cmd->add_option("kind", *kind, "staffing, activity or profile")
      ->required()
      ->check(CLI::IsMember({"staffing", "activity", "profile"}));
  cmd->add_option("file", *file, "the CSV file")->required();
  cmd->add_flag("--skip-invalid", *skip,
                "import the valid rows and report the rest");
  cmd->footer(kFilesHelp);
  cmd->callback([=] {
    absl::StatusOr<std::string> content = ReadFile(*file);
    if (!content.ok()) Fail("import", content.status().message());
    absl::StatusOr<v1::ImportResponse> r =
        Connect("import", *socket).Import(*kind, *file, *content, *skip);
    if (!r.ok()) Fail("import", r.status().message());
    for (const auto& w : r->warnings()) {
      std::cout << "warning: " << FormatProblem(w) << "\n";
    }
    for (const auto& e : r->errors()) {
      std::cout << (*skip ? "skipped: " : "error: ") << FormatProblem(e) << "\n";
    }
    const bool rejected = r->errors_size() > 0 && r->rows_skipped() == 0;
    if (rejected) {
      Fail("import", absl::StrCat("rejected ", *file, ": ", r->errors_size(),
                                  " problem(s), nothing imported; first: ",
                                  FormatProblem(r->errors(0))));
    }
    std::cout << absl::StrFormat(
        "%s: %u rows read, %u imported, %u unchanged, %u skipped\n", *file,
        r->rows_read(), r->rows_imported(), r->rows_unchanged(),
        r->rows_skipped());
    std::cout << "periods changed: "
              << (r->periods_changed().empty()
                      ? "none"
                      : absl::StrJoin(r->periods_changed(), " "))
              << "\n";
  });
}

void AddSet(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto args = std::make_shared<std::vector<std::string>>(3);
  CLI::App* cmd = app.add_subcommand(
      "set", "enter one value by hand; it overrides the imported figure");
  cmd->add_option("period", (*args)[0], "YYYY-MM, or YYYY for profile answers")
      ->required();
  cmd->add_option("measure", (*args)[1],
                  "catalogue code, e.g. staffing.wte.nurse_general or "
                  "profile.host_type")
      ->required();
  cmd->add_option("value", (*args)[2], "e.g. 2.5, yes, acute")->required();
  cmd->footer("\nExamples:\n  ohfed set 2026-03 staffing.wte.nurse_general 2.5\n"
              "  ohfed set 2026 profile.host_type acute\n"
              "  ohfed set 2026 profile.seqohs_accredited yes\n");
  cmd->callback([=] {
    auto r = Connect("set", *socket).SetValue((*args)[0], (*args)[1], (*args)[2]);
    if (!r.ok()) Fail("set", r.status().message());
    for (const auto& w : r->warnings()) {
      std::cout << "warning: " << FormatProblem(w) << "\n";
    }
    std::cout << (*args)[0] << " " << (*args)[1] << " = " << (*args)[2]
              << " (revision " << r->revision() << ")\n";
  });
}

void AddSync(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto timeout = std::make_shared<double>(60);
  CLI::App* cmd = app.add_subcommand(
      "sync", "send pending changes; exits 0 once all are acknowledged");
  cmd->add_option("--timeout", *timeout, "seconds to wait (default 60)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->callback([=] {
    auto r = Connect("sync", *socket).Sync(absl::Seconds(*timeout));
    if (!r.ok()) Fail("sync", r.status().message());
    if (r->complete()) {
      std::cout << "all local changes are acknowledged\n";
      return;
    }
    PrintPeriods(r->periods());
    std::cout.flush();
    if (r->rejected() > 0) {
      const v1::PeriodState* first = nullptr;
      for (const auto& p : r->periods()) {
        if (p.state() == "rejected") { first = &p; break; }
      }
      Fail("sync", absl::StrCat(r->rejected(), " period(s) rejected by the "
                                "aggregator, e.g. ", first->period(), ": ",
                                first->reason()));
    }
    Fail("sync", absl::StrCat(r->pending(), " period(s) still pending after ",
                              *timeout, "s",
                              r->last_error().empty()
                                  ? ""
                                  : "; last error: " + r->last_error()));
  });
}

void AddStatus(CLI::App& app, std::shared_ptr<std::string> socket) {
  CLI::App* cmd = app.add_subcommand(
      "status", "what the agent holds, has sent and has pending");
  cmd->callback([=] {
    auto r = Connect("status", *socket).Status();
    if (!r.ok()) Fail("status", r.status().message());
    std::cout << "trust:       " << r->trust() << "\n"
              << "aggregator:  " << r->aggregator() << "\n"
              << "last sync:   " << FormatMillis(r->last_sync_unix_ms()) << "\n"
              << "catalogue:   " << r->catalogue_version() << "\n";
    if (!r->last_error().empty()) {
      std::cout << "last error:  " << r->last_error() << "\n";
    }
    std::cout << "\n";
    std::cout.flush();
    PrintPeriods(r->periods());
  });
}

void AddPeriods(CLI::App& app, std::shared_ptr<std::string> socket) {
  CLI::App* cmd = app.add_subcommand("periods", "local periods and their state");
  cmd->callback([=] {
    auto r = Connect("periods", *socket).Status();
    if (!r.ok()) Fail("periods", r.status().message());
    PrintPeriods(r->periods());
  });
}

void PrintSummary(const v1::UnitSummary& s) {
  std::cout << "trust " << s.trust() << ", period " << s.period()
            << ", revision " << s.revision() << ", produced "
            << FormatMillis(s.produced_unix_ms()) << ", catalogue "
            << s.catalogue_version() << "\n";
  auto catalogue = Catalogue::Default();
  for (const v1::Cell& c : s.cells()) {
    const Measure* m = catalogue->Find(c.measure());
    std::string value = absl::StrCat(c.value());
    if (c.buckets_size() > 0) {
      std::vector<std::string> b;
      for (const auto& bucket : c.buckets()) {
        b.push_back(absl::StrCat(bucket.value(), "d:", bucket.count()));
      }
      absl::StrAppend(&value, " [", absl::StrJoin(b, " "), "]");
    }
    std::cout << absl::StrFormat("%-50s %10s", c.measure(), value);
    if (m != nullptr) std::cout << "  (" << m->label << ")";
    std::cout << "\n";
  }
}

void AddShow(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto period = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "show", "the summary of one period, exactly as it is sent");
  cmd->add_option("period", *period, "YYYY-MM, or YYYY for the profile")
      ->required();
  cmd->callback([=] {
    auto r = Connect("show", *socket).Summary(*period);
    if (!r.ok()) Fail("show", r.status().message());
    PrintSummary(*r);
  });
}

}  // namespace

void AddAgentCommands(CLI::App& app) {
  auto socket = std::make_shared<std::string>(kDefaultSocket);
  app.add_option("--agent", *socket,
                 "the agent's unix socket (env OHFED_AGENT_SOCKET; default " +
                     std::string(kDefaultSocket) + ")")
      ->envname("OHFED_AGENT_SOCKET");
  app.footer(kFilesHelp);
  AddImport(app, socket);
  AddSet(app, socket);
  AddSync(app, socket);
  AddStatus(app, socket);
  AddPeriods(app, socket);
  AddShow(app, socket);
  CLI::App* help = app.add_subcommand("help", "show this help");
  // App::help() would describe the selected subcommand (`help` itself);
  // the formatter describes the whole app.
  help->callback([&app] {
    std::cout << app.get_formatter()->make_help(&app, app.get_name(),
                                                CLI::AppFormatMode::Normal);
  });
}

}  // namespace ohfed::agent
