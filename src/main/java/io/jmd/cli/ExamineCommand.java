package io.jmd.cli;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.md.MdException;
import io.jmd.md.MemberExamine;
import io.jmd.md.format.ExamineFormatter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code jmd examine MEMBER...}: each member's superblock, as mdadm --examine prints it. Reads only. */
@Command(name = "examine", aliases = {"-E", "--examine"}, description = "Print the md superblock of each member (like mdadm --examine).")
final class ExamineCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "member files, block devices or NBD exports (nbd://..., nbd+unix://...)")
    List<String> members;

    @Override
    public Integer call() throws Exception {
        int failures = 0;
        try (Env env = CliSupport.env()) {
            ExamineFormatter fmt = new ExamineFormatter(ExamineFormatter.zoneFromEnvironment(System.getenv()), Optional.empty());
            for (String m : members) {
                try (BlockDevice dev = CliSupport.opener(env).open(m, true)) {
                    System.out.print(MemberExamine.examine(env, dev, m, fmt));
                } catch (MdException | IOException e) {
                    System.err.println("jmd: " + e.getMessage());
                    failures++;
                }
            }
        }
        return failures == 0 ? 0 : 1;
    }

    static Map<String, String> env() {
        return System.getenv();
    }
}
