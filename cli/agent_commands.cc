#include "cli/agent_commands.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "agent/importer.h"
#include "cli/agent_client.h"
#include "cli/import_report.h"
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
            basis employed (default), locum, bank, contracted or vacant;
            one figure per group and month: posts or a group total (one
            per basis), never both
  activity  date,activity,client_org,subject_ref,wait_days
            one row per event; date YYYY-MM-DD; client_org defaults to your
            trust; subject_ref (to count distinct staff seen) and wait_days
            (referral to first appointment) are optional
  profile   year,question,answer
            the annual service return: yes/no answers, host_type and
            reporting_line (one option name), staff_served (a number)
Staff groups, activities and questions are the codes of the catalogue, e.g.
staffing.wte.nurse_general -> staff_group nurse_general (any case).
Save files as CSV UTF-8 (comma-separated); numbers are plain decimals (2.5);
dates may not be after today.

An import is all or nothing unless --skip-invalid; every bad row is listed
with its line, column and reason. A staffing or activity file replaces the
months it contains, so re-importing is harmless and a corrected file changes
only the months that differ.

A month is sent once it has ended; until then `ohfed status` shows it as
open. A period whose import gave outlier warnings is held until you check
it and run `ohfed confirm PERIOD` (or import with --accept-outliers).

Examples:
  ohfed import staffing staffing.csv
  ohfed set 2026-03 staffing.wte.nurse_general 2.5
  ohfed unset 2026-03 staffing.wte.nurse_general
  ohfed retract 2026-03
  ohfed sync --timeout 60
  ohfed status
)";

constexpr char kShortFooter[] =
    "\nRun `ohfed help` (or `ohfed import --help`) for the import file "
    "formats and examples.\n";

// Marks a hand-entered value in `ohfed show`.
constexpr char kManualMark[] = " [set]";

[[noreturn]] void Fail(absl::string_view command, absl::string_view reason) {
  std::cerr << "ohfed " << command << ": " << reason << "\n";
  throw CLI::RuntimeError(1);
}

std::string FormatMillis(int64_t ms) {
  if (ms == 0) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

AgentClient Connect(const std::string& command, const std::string& socket) {
  absl::StatusOr<AgentClient> c = AgentClient::Connect(socket);
  if (!c.ok()) Fail(command, c.status().message());
  return std::move(*c);
}

// Everything a manager should know about a period besides its state: why
// it is rejected, held or open, whether it is withdrawn, which values were
// entered by hand, and a refusal further up.
std::string Note(const v1::PeriodState& p) {
  std::vector<std::string> parts;
  if (p.retracted()) parts.push_back("retracted");
  if (!p.reason().empty()) parts.push_back(p.reason());
  if (p.manual_size() > 0) {
    parts.push_back(
        absl::StrCat("set by hand: ", absl::StrJoin(p.manual(), ", ")));
  }
  if (!p.upstream_reason().empty()) {
    parts.push_back(absl::StrCat("refused upstream: ", p.upstream_reason()));
  }
  return absl::StrJoin(parts, "; ");
}

void PrintPeriods(
    const google::protobuf::RepeatedPtrField<v1::PeriodState>& ps) {
  std::printf("%-8s  %-8s  %15s  %15s  %8s  %s\n", "PERIOD", "STATE",
              "REVISION", "ACKED", "MEASURES", "NOTE");
  for (const v1::PeriodState& p : ps) {
    std::printf("%-8s  %-8s  %15llu  %15llu  %8u  %s\n", p.period().c_str(),
                p.state().c_str(),
                static_cast<unsigned long long>(p.revision()),
                static_cast<unsigned long long>(p.acked_revision()),
                p.measures(), Note(p).c_str());
  }
}

void AddImport(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto kind = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto skip = std::make_shared<bool>(false);
  auto accept = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "import", "import a staffing, activity or profile CSV file");
  cmd->add_option("kind", *kind, "staffing, activity or profile")
      ->required()
      ->check(CLI::IsMember({"staffing", "activity", "profile"}));
  cmd->add_option("file", *file, "the CSV file")->required();
  cmd->add_flag("--skip-invalid", *skip,
                "import the valid rows and report the rest");
  cmd->add_flag("--accept-outliers", *accept,
                "send periods with outlier warnings at once instead of "
                "holding them for `ohfed confirm`");
  cmd->footer(kFilesHelp);
  cmd->callback([=] {
    const std::string name = Utf8FileName(*file);
    // Sent a piece at a time: any size, never all in memory.
    absl::StatusOr<v1::ImportResponse> r =
        Connect("import", *socket)
            .ImportFile(*kind, *file, name, *skip, *accept);
    if (!r.ok()) Fail("import", r.status().message());
    ImportReport report = ReportImport(*r, name, *skip);
    std::cout << report.out;
    std::cout.flush();
    if (!report.failure.empty()) Fail("import", report.failure);
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
  cmd->footer(
      "\nExamples:\n  ohfed set 2026-03 staffing.wte.nurse_general 2.5\n"
      "  ohfed set 2026 profile.host_type acute\n"
      "  ohfed set 2026 profile.seqohs_accredited yes\n"
      "\nA hand-entered value shows as [set] in `ohfed show` and "
      "overrides\nimports until `ohfed unset PERIOD MEASURE`. An "
      "activity count may not be\nbelow the events of that activity "
      "with a wait time recorded, which its\nwait-time distribution "
      "is built from.\n");
  cmd->callback([=] {
    auto r =
        Connect("set", *socket).SetValue((*args)[0], (*args)[1], (*args)[2]);
    if (!r.ok()) Fail("set", r.status().message());
    for (const auto& w : r->warnings()) {
      std::cout << "warning: " << FormatProblem(w) << "\n";
    }
    std::cout << (*args)[0] << " " << (*args)[1] << " = " << (*args)[2]
              << " (revision " << r->revision() << "); it overrides imports "
              << "until `ohfed unset " << (*args)[0] << " " << (*args)[1]
              << "`\n";
  });
}

void AddUnset(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto args = std::make_shared<std::vector<std::string>>(2);
  CLI::App* cmd = app.add_subcommand(
      "unset",
      "clear a value entered with `set`; the imported figure counts again");
  cmd->add_option("period", (*args)[0], "YYYY-MM, or YYYY for profile answers")
      ->required();
  cmd->add_option("measure", (*args)[1], "the code given to `set`")->required();
  cmd->callback([=] {
    auto r = Connect("unset", *socket).UnsetValue((*args)[0], (*args)[1]);
    if (!r.ok()) Fail("unset", r.status().message());
    if (!r->changed()) {
      std::cout << (*args)[0] << " " << (*args)[1]
                << " was not set by hand; nothing changed\n";
      return;
    }
    std::cout << (*args)[0] << " " << (*args)[1]
              << " cleared; the period's records give it again (revision "
              << r->revision() << ")\n";
  });
}

void AddRetract(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto period = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "retract",
      "withdraw a period imported by mistake, here and at every "
      "aggregator");
  cmd->add_option("period", *period, "YYYY-MM, or YYYY for the profile")
      ->required();
  cmd->footer(
      "\nThe period's local records are deleted and a retraction is "
      "sent like any other change; every aggregator forgets the "
      "period for this trust. Importing the period again makes it "
      "live again.\n");
  cmd->callback([=] {
    auto r = Connect("retract", *socket).Retract(*period);
    if (!r.ok()) Fail("retract", r.status().message());
    if (!r->changed()) {
      std::cout << *period << " is already retracted; nothing changed\n";
      return;
    }
    std::cout << *period << " retracted (revision " << r->revision()
              << "); the retraction is sent with the next sync\n";
  });
}

void AddConfirm(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto period = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "confirm", "release a period held for outlier warnings, once checked");
  cmd->add_option("period", *period, "YYYY-MM")->required();
  cmd->callback([=] {
    auto r = Connect("confirm", *socket).Confirm(*period);
    if (!r.ok()) Fail("confirm", r.status().message());
    if (!r->changed()) {
      std::cout << *period << " was not held; nothing changed\n";
      return;
    }
    std::cout << *period << " confirmed; it is sent with the next sync\n";
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
    if (r->periods_size() > 0) PrintPeriods(r->periods());
    std::cout.flush();
    auto first = [&](absl::string_view state) -> const v1::PeriodState* {
      for (const auto& p : r->periods()) {
        if (p.state() == state) return &p;
      }
      return nullptr;
    };
    if (r->complete()) {
      std::cout << "all local changes are acknowledged"
                << (first("open") ? " (open months are sent once they end)"
                                  : "")
                << "\n";
      return;
    }
    if (r->rejected() > 0) {
      const v1::PeriodState* p = first("rejected");
      Fail("sync", absl::StrCat(r->rejected(),
                                " period(s) rejected by the "
                                "aggregator, e.g. ",
                                p->period(), ": ", p->reason()));
    }
    uint32_t held = 0;
    for (const auto& p : r->periods()) held += p.state() == "held";
    const std::string held_note =
        held == 0 ? ""
                  : absl::StrCat(held, " held for outlier review, e.g. ",
                                 first("held")->period(),
                                 "; check the figures, then `ohfed confirm ",
                                 first("held")->period(), "`");
    if (held == r->pending()) Fail("sync", held_note);
    Fail("sync",
         absl::StrCat(
             r->pending() - held, " period(s) still pending after ", *timeout,
             "s",
             r->last_error().empty() ? "" : "; last error: " + r->last_error(),
             held_note.empty() ? "" : "; ", held_note));
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
  CLI::App* cmd =
      app.add_subcommand("periods", "local periods and their state");
  cmd->callback([=] {
    auto r = Connect("periods", *socket).Status();
    if (!r.ok()) Fail("periods", r.status().message());
    PrintPeriods(r->periods());
  });
}

// Whether `measure` was set by hand: its own code, or the enum question it
// is an option of ("profile.host_type" for "profile.host_type.acute").
bool IsManual(const std::string& measure,
              const google::protobuf::RepeatedPtrField<std::string>& manual) {
  for (const std::string& code : manual) {
    if (measure == code || absl::StartsWith(measure, code + ".")) return true;
  }
  return false;
}

void PrintSummary(
    const v1::UnitSummary& s,
    const google::protobuf::RepeatedPtrField<std::string>& manual) {
  std::cout << "trust " << s.trust() << ", period " << s.period()
            << ", revision " << s.revision() << ", produced "
            << FormatMillis(s.produced_unix_ms()) << ", catalogue "
            << s.catalogue_version() << "\n";
  if (s.retracted()) {
    std::cout << "retracted: this period is withdrawn and no figures are sent "
                 "for it; import it again to restore it\n";
    return;
  }
  auto catalogue = Catalogue::Default();
  bool any_manual = false;
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
    const bool hand = IsManual(c.measure(), manual);
    any_manual |= hand;
    std::cout << absl::StrFormat("%-50s %10s%s", c.measure(), value,
                                 hand ? kManualMark : "");
    if (m != nullptr) std::cout << "  (" << m->label << ")";
    std::cout << "\n";
  }
  if (any_manual) {
    std::cout << "\n"
              << absl::StripLeadingAsciiWhitespace(kManualMark)
              << " entered by hand with `ohfed set`: it overrides the imported "
                 "figure until `ohfed unset "
              << s.period() << " MEASURE`\n";
  }
}

void AddShow(CLI::App& app, std::shared_ptr<std::string> socket) {
  auto period = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "show", "the summary of one period, exactly as it is sent");
  cmd->add_option("period", *period, "YYYY-MM, or YYYY for the profile")
      ->required();
  cmd->callback([=] {
    AgentClient client = Connect("show", *socket);
    auto r = client.Summary(*period);
    if (!r.ok()) Fail("show", r.status().message());
    auto status = client.Status();
    if (!status.ok()) Fail("show", status.status().message());
    google::protobuf::RepeatedPtrField<std::string> manual;
    for (const v1::PeriodState& p : status->periods()) {
      if (p.period() == r->period()) manual = p.manual();
    }
    PrintSummary(*r, manual);
  });
}

}  // namespace

void AddAgentCommands(CLI::App& app) {
  auto socket = std::make_shared<std::string>(kDefaultSocket);
  app.add_option("--agent", *socket,
                 "the agent's unix socket (env OHFED_AGENT_SOCKET; default " +
                     std::string(kDefaultSocket) + ")")
      ->envname("OHFED_AGENT_SOCKET");
  app.footer(kShortFooter);
  AddImport(app, socket);
  AddSet(app, socket);
  AddUnset(app, socket);
  AddRetract(app, socket);
  AddConfirm(app, socket);
  AddSync(app, socket);
  AddStatus(app, socket);
  AddPeriods(app, socket);
  AddShow(app, socket);
  CLI::App* help = app.add_subcommand(
      "help", "this help, with the import file formats and examples");
  // App::help() would describe the selected subcommand (`help` itself);
  // the formatter describes the whole app. The long file help is shown
  // here and on `import --help` only, not on every --help.
  help->callback([&app] {
    std::string text = app.get_formatter()->make_help(
        &app, app.get_name(), CLI::AppFormatMode::Normal);
    // Swap the pointer to this text for the text itself.
    if (size_t at = text.rfind(kShortFooter); at != std::string::npos) {
      text.erase(at);
    }
    std::cout << text << kFilesHelp;
  });
}

}  // namespace ohfed::agent
