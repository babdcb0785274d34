package dev.jlens.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The help texts: every option of every command described with its default, and the commands' own help rules. */
class CliHelpTest {
    static List<CommandLine> all(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) out.addAll(all(sub));
        return out;
    }

    @Test
    void everyOptionOfEveryCommandHasADescriptionAndShowsItsDefault() {
        List<String> undescribed = new ArrayList<>(), noDefault = new ArrayList<>(), twice = new ArrayList<>();
        List<CommandLine> commands = all(Main.command());
        assertTrue(commands.size() >= 15, "the walk reaches the subcommands: " + commands.size());
        for (CommandLine c : commands) {
            CommandSpec spec = c.getCommandSpec();
            // the options section, one entry per option: an entry starts with a line whose first text is an option name
            java.util.Map<String, String> entries = new java.util.HashMap<>();
            String current = null;
            for (String line : c.getHelp().optionList().split("\n")) {
                Matcher m = Pattern.compile("^\\s{2,8}(?:-\\w, )?(--[\\w-]+)").matcher(line);
                if (m.find()) current = m.group(1);
                if (current != null) entries.merge(current, line.strip(), (x, y) -> x + " " + y);
            }
            for (OptionSpec o : spec.options()) {
                String where = spec.qualifiedName() + " " + o.longestName();
                String text = String.join(" ", o.description()).strip();
                if (text.isEmpty()) undescribed.add(where);
                if (o.defaultValue() == null) continue;
                if (o.hidden()) continue;
                String entry = null;
                for (String n : o.names()) if (entry == null) entry = entries.get(n);
                assertNotNull(entry, where + " has a help entry: " + entries.keySet());
                entry = entry.replaceAll("\\s+", " ");
                if (!entry.contains("Default: " + o.defaultValue())) noDefault.add(where + " -> " + entry);
                if (entry.toLowerCase().matches(".*\\(default:? " + Pattern.quote(o.defaultValue().toLowerCase()) + "\\).*")) twice.add(where + " -> " + entry);
            }
        }
        assertEquals(List.of(), undescribed, "options without a description");
        assertEquals(List.of(), noDefault, "options whose help does not show their default");
        assertEquals(List.of(), twice, "options that show their default twice");
    }

    @Test
    void contrastDoesNotOfferTheOptionsItIgnoresAndStillRuns() {
        CommandLine c = Main.command().getSubcommands().get("contrast");
        for (String ignored : List.of("--target", "--control", "--ctx", "--seqs", "--gpu-capture", "--anchors", "--min-cosine",
                "--min-correlation", "--min-sub-features")) {
            assertNull(c.getCommandSpec().findOption(ignored), ignored);
        }
        CliRunner.Run r = CliRunner.run("contrast", "--help");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("--min-cosine") || r.out().contains("--ctx") || r.out().contains("--target="), r.out());
        assertTrue(r.out().contains("--permutations") && r.out().contains("--min-activation"), r.out());
        CliRunner.Run bad = CliRunner.run("contrast", "--min-cosine", "0.5", "--target-captured", "a", "--control-captured", "b",
                "--sae", "s", "--out", "o");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("Unknown option") && bad.err().contains("'--min-cosine'"), bad.err());
        assertTrue(bad.err().contains("see 'jlens contrast --help'"), bad.err());
        CommandLine x = Main.command().getSubcommands().get("crossmap");
        assertNull(x.getCommandSpec().findOption("--ctx"));
        assertNotNull(x.getCommandSpec().findOption("--min-cosine"));
    }

    @Test
    void helpNamesACommand() {
        CliRunner.Run r = CliRunner.run("help", "france");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: jlens france"), r.out());
        assertTrue(r.out().contains("--min-cosine"), r.out());
    }

    @Test
    void steerListsEveryConditionAndNamesItsPromptCountUnambiguously() {
        CliRunner.Run r = CliRunner.run("steer", "--help");
        assertEquals(0, r.code(), r.err());
        String text = r.out().replaceAll("\\s+", " ");
        for (String c : dev.jlens.study.steering.SteeringExperiment.CONDITIONS) assertTrue(text.contains(c), c + " listed: " + text);
        assertTrue(text.contains("--neutral-prompts=<n>"), text);
        // capture's --prompts is a file; steer's count is --neutral-prompts (the old spelling still parses, as the same option)
        CommandSpec steer = Main.command().getSubcommands().get("steer").getCommandSpec();
        assertEquals(int.class, steer.findOption("--neutral-prompts").type());
        assertTrue(steer.findOption("--prompts").hidden(), "the old spelling is not offered");
        CommandLine parsed = Main.command();
        parsed.parseArgs("steer", "--prompts", "3");
        assertEquals(3, ((SteerCommand) parsed.getSubcommands().get("steer").getCommand()).neutralPrompts(), "the old spelling still works");
        assertFalse(text.contains("--prompts="), text);
        assertEquals(Path.class, Main.command().getSubcommands().get("capture").getCommandSpec().findOption("--prompts").type());
    }

    @Test
    void versionNamesJlensTheLlamaCppCommitAndTheCpuBackend() throws Exception {
        CliRunner.Run r = CliRunner.run("--version");
        assertEquals(0, r.code(), r.err());
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>jlens</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "the project version in pom.xml");
        assertTrue(r.out().startsWith("jlens " + m.group(1) + "\n"), r.out());
        dev.jlens.api.NativeRuntime n = dev.jlens.api.NativeRuntime.load();
        assertTrue(r.out().contains("llama.cpp commit " + n.ggmlCommit()), r.out());
        assertTrue(r.out().contains("cpu backend " + n.cpuVariant() + " (" + n.cpuBackend() + ")"), r.out());
    }
}
