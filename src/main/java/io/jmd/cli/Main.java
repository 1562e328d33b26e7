package io.jmd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * jmd's command line: mdadm's verbs and option spellings, so md users feel at home.
 * Exit codes: 0 done, 1 the operation failed (the message says why), 2 wrong usage.
 */
@Command(name = "jmd", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = Main.Version.class,
    description = "Linux md software RAID in user space, served over NBD.",
    subcommands = {
        StartCommand.class,
        CreateCommand.class,


        AssembleCommand.class,
        ServeCommand.class,
        ExamineCommand.class,
        DetailCommand.class,
        ControlCommands.Status.class,
        ControlCommands.Fail.class,
        ControlCommands.Remove.class,
        ControlCommands.Add.class,
        ControlCommands.ReAdd.class,
        ControlCommands.Action.class,
        ControlCommands.SyncSpeed.class,
        ControlCommands.StripeCacheSize.class,
        ControlCommands.Monitor.class,
        SimCommand.class,
        CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this in-process). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("jmd: " + ex.getMessage());
            ex.getCommandLine().getErr().println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Operating errors become one line on stderr and exit code 1; programmer errors keep their stack. */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
            if (ex instanceof CommandLine.TypeConversionException) {
                cl.getErr().println("jmd: " + ex.getMessage());
                cl.getErr().println("Try '" + cl.getCommandSpec().qualifiedName() + " --help'.");
                return 2;
            }
            if (ex instanceof CliException || ex instanceof io.jmd.md.MdException || ex instanceof java.io.IOException) {
                cl.getErr().println("jmd: " + ex.getMessage());
                return ex instanceof CliException c ? c.exitCode() : 1;
            }
            cl.getErr().println("jmd: internal error: " + ex);
            ex.printStackTrace(cl.getErr());
            return 70;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jmd " + (v == null ? "(development build)" : v)};
        }
    }
}
