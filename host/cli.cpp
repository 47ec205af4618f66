// SPDX-License-Identifier: MIT
// The command line, parsed by Boost.Program_options.
#include "host/cli.hpp"

#include <boost/program_options.hpp>
#include <sstream>
#include <stdexcept>

#include "host/config.hpp"

namespace sockhost::host {
namespace {

namespace po = boost::program_options;

po::options_description make_options() {
    po::options_description options("Options");
    // clang-format off
    options.add_options()
        ("config,c", po::value<std::string>()->default_value("servers.toml")->value_name("FILE"),
         "the servers.toml to load")
        ("plugins-dir", po::value<std::string>()->value_name("DIR"),
         "directory of plugin .so files (overrides [host] plugins_dir)")
        ("check", "validate config and plugins, print what would run, bind nothing")
        ("reload", "make the running host (found through [host] pid_file) reload its config")
        ("stop", "make the running host (found through [host] pid_file) stop")
        ("log-level", po::value<std::string>()->value_name("L"),
         "trace | debug | info | warning | error (overrides [host] log_level)")
        ("version", "print the version and exit")
        ("help,h", "print this help and exit");
    // clang-format on
    return options;
}

std::string to_text(const po::options_description& options) {
    std::ostringstream out;
    out << options;
    return out.str();
}

}  // namespace

std::string command_line_help() { return to_text(make_options()); }

CommandLine parse_command_line(int argc, const char* const argv[]) {
    auto options = make_options();
    // argv[0] is the program; an empty argv (argc 0) is legal for exec and means no options.
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    po::variables_map vm;
    try {
        // No guessing: "--conf" must not silently mean "--config".
        auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        // An empty positional description makes any bare argument an error instead of ignored.
        po::positional_options_description no_positionals;
        po::store(
            po::command_line_parser(args).options(options).positional(no_positionals).style(style).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw std::invalid_argument(e.what());
    }
    CommandLine cli;
    cli.config = vm["config"].as<std::string>();
    if (vm.count("plugins-dir")) cli.plugins_dir = vm["plugins-dir"].as<std::string>();
    if (vm.count("log-level")) {
        auto level = vm["log-level"].as<std::string>();
        if (!parse_log_level(level))
            throw std::invalid_argument("invalid level '" + level +
                                        "' for option '--log-level' (expected trace, debug, info, "
                                        "warning or error)");
        cli.log_level = level;
    }
    cli.check = vm.count("check") > 0;
    cli.reload = vm.count("reload") > 0;
    cli.stop = vm.count("stop") > 0;
    if (cli.check + cli.reload + cli.stop > 1)
        throw std::invalid_argument("--check, --reload and --stop exclude each other");
    cli.version = vm.count("version") > 0;
    cli.help = vm.count("help") > 0;
    cli.help_text = to_text(options);
    return cli;
}

}  // namespace sockhost::host
