// SPDX-License-Identifier: MIT
// The command line: SPEC.md's options, defaults, and Program_options' errors.
#include "host/cli.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

using sockhost::host::command_line_help;
using sockhost::host::CommandLine;
using sockhost::host::parse_command_line;

namespace {

// Runs the parser over "sockhost" followed by `args`.
CommandLine parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"sockhost"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// The std::invalid_argument message for `args`, or "" if they parse.
std::string error_of(std::initializer_list<const char*> args) {
    try {
        parse(args);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(CommandLine, DefaultsWithNoArguments) {
    auto cli = parse({});
    EXPECT_EQ(cli.config, "servers.toml");
    EXPECT_FALSE(cli.plugins_dir.has_value());
    EXPECT_FALSE(cli.log_level.has_value());
    EXPECT_FALSE(cli.check);
    EXPECT_FALSE(cli.version);
    EXPECT_FALSE(cli.help);
    EXPECT_FALSE(cli.help_text.empty());
}

TEST(CommandLine, AcceptsAnEmptyArgv) {
    const char* const* argv = nullptr;
    auto cli = parse_command_line(0, argv);
    EXPECT_EQ(cli.config, "servers.toml");
}

TEST(CommandLine, ReadsConfigInLongShortAndEqualsForms) {
    EXPECT_EQ(parse({"--config", "a.toml"}).config, "a.toml");
    EXPECT_EQ(parse({"--config=b.toml"}).config, "b.toml");
    EXPECT_EQ(parse({"-c", "c.toml"}).config, "c.toml");
    EXPECT_EQ(parse({"-cd.toml"}).config, "d.toml");
}

TEST(CommandLine, ReadsPluginsDirAndLogLevel) {
    auto cli = parse({"--plugins-dir", "/opt/plugins", "--log-level", "debug"});
    EXPECT_EQ(cli.plugins_dir, std::optional<std::string>("/opt/plugins"));
    EXPECT_EQ(cli.log_level, std::optional<std::string>("debug"));
}

TEST(CommandLine, ReadsSwitches) {
    auto cli = parse({"--check", "--version"});
    EXPECT_TRUE(cli.check);
    EXPECT_TRUE(cli.version);
    EXPECT_FALSE(cli.help);
    EXPECT_TRUE(parse({"--help"}).help);
    EXPECT_TRUE(parse({"-h"}).help);
}

TEST(CommandLine, CombinesEveryOption) {
    auto cli = parse({"-c", "/etc/sockhost/servers.toml", "--check", "--plugins-dir=p", "--log-level=trace"});
    EXPECT_EQ(cli.config, "/etc/sockhost/servers.toml");
    EXPECT_TRUE(cli.check);
    EXPECT_EQ(*cli.plugins_dir, "p");
    EXPECT_EQ(*cli.log_level, "trace");
}

TEST(CommandLine, RejectsUnknownOptionWithProgramOptionsMessage) {
    EXPECT_EQ(error_of({"--bogus"}), "unrecognised option '--bogus'");
    EXPECT_EQ(error_of({"-x"}), "unrecognised option '-x'");
}

TEST(CommandLine, RejectsAbbreviatedOptions) {
    EXPECT_EQ(error_of({"--conf", "a.toml"}), "unrecognised option '--conf'");
}

TEST(CommandLine, RejectsMissingArgument) {
    EXPECT_EQ(error_of({"--config"}), "the required argument for option '--config' is missing");
    EXPECT_EQ(error_of({"--plugins-dir"}), "the required argument for option '--plugins-dir' is missing");
    EXPECT_EQ(error_of({"--log-level"}), "the required argument for option '--log-level' is missing");
}

TEST(CommandLine, RejectsPositionalArguments) {
    EXPECT_EQ(error_of({"servers.toml"}),
              "too many positional options have been specified on the command line");
    EXPECT_EQ(error_of({"--check", "extra"}),
              "too many positional options have been specified on the command line");
}

TEST(CommandLine, RejectsRepeatedOption) {
    EXPECT_EQ(error_of({"--config", "a", "--config", "b"}),
              "option '--config' cannot be specified more than once");
}

TEST(CommandLine, RejectsValueOnASwitch) {
    EXPECT_EQ(error_of({"--check=yes"}), "option '--check' does not take any arguments");
}

TEST(CommandLine, RejectsUnknownLogLevel) {
    EXPECT_EQ(
        error_of({"--log-level", "loud"}),
        "invalid level 'loud' for option '--log-level' (expected trace, debug, info, warning or error)");
}

TEST(CommandLine, HelpTextListsEveryOptionWithItsDefault) {
    auto text = parse({"--help"}).help_text;
    for (const char* expected : {"-c [ --config ] FILE (=servers.toml)", "--plugins-dir DIR", "--check",
                                 "--log-level L", "--version", "-h [ --help ]"})
        EXPECT_NE(text.find(expected), std::string::npos) << expected << " missing from:\n" << text;
    EXPECT_EQ(text, command_line_help());
}
