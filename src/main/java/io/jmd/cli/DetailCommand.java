package io.jmd.cli;

import io.jmd.Env;
import io.jmd.md.Assembler;
import io.jmd.md.Detail;
import io.jmd.md.MdArray;
import io.jmd.md.format.ExamineFormatter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jmd detail MEMBER...}: the array's state as mdadm --detail prints it. Assembles
 * read-only (degraded if need be), so nothing is written.
 */
@Command(name = "detail", aliases = {"-D", "--detail"}, description = "Print the array's state (like mdadm --detail). Writes nothing.")
final class DetailCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "member files or block devices")
    List<String> members;

    @Override
    public Integer call() throws Exception {
        try (Env env = CliSupport.env();
             MdArray array = Assembler.assemble(env, CliSupport.opener(env), members, new Assembler.Options(true, true))) {
            System.out.print(Detail.format(array, ExamineFormatter.zoneFromEnvironment(System.getenv())));
            for (String note : array.notes()) {
                System.out.println("jmd: " + note);
            }
        }
        return 0;
    }
}
