package io.jmd.cli;

import io.jmd.Env;
import io.jmd.md.Assembler;
import io.jmd.md.MdArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jmd assemble MEMBER...}: checks that the members form a startable array, starts it
 * (resyncing first if it was not shut down clean), reports, and stops it clean. Serving it is
 * {@code jmd serve}'s job.
 */
@Command(name = "assemble", aliases = {"-A", "--assemble"},
    description = "Assemble the array formed by MEMBERs, report its state, and stop it clean.")
final class AssembleCommand implements Callable<Integer> {
    @Option(names = {"-R", "--run"}, description = "start even if members are missing (degraded)")
    boolean run;

    @Option(names = {"-o", "--readonly"}, description = "start read-only: nothing is written to any member")
    boolean readOnly;

    @Option(names = {"-f", "--force"}, description = "start a dirty degraded raid4/5/6 anyway, marked clean (data corruption possible)")
    boolean force;

    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "member files, block devices or NBD exports (nbd://..., nbd+unix://...)")
    List<String> members;

    @Override
    public Integer call() throws Exception {
        try (Env env = CliSupport.env();
             MdArray array = Assembler.assemble(env, CliSupport.opener(env), members, new Assembler.Options(run, readOnly, force))) {
            array.redundancy().awaitSyncIdle(); // a resync runs online: let it finish before the stop
            for (String note : array.notes()) {
                System.err.println("jmd: " + note);
            }
            System.out.printf("jmd: %s has been started with %d drive%s (out of %d): %s %s%n", array.name(),
                array.members().stream().filter(m -> m.isInSync()).count(),
                array.members().size() == 1 ? "" : "s", array.superblock().raidDisks(),
                array.personality().levelName(), array.personality().status());
        }
        return 0;
    }
}
