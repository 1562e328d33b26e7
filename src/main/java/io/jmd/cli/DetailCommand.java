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
 * read-only (degraded if need be), so nothing is written. Without MEMBERs it asks a running
 * {@code jmd serve} through its control socket, which shows sync progress and spares too.
 */
@Command(name = "detail", aliases = {"-D", "--detail"}, description = "Print the array's state (like mdadm --detail). Writes nothing.")
final class DetailCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "MEMBER", description = "member files or block devices of a stopped array")
    List<String> members = new java.util.ArrayList<>();

    @picocli.CommandLine.Mixin
    ControlCommands.Target target = new ControlCommands.Target();

    @Override
    public Integer call() throws Exception {
        if (members.isEmpty()) {
            try (io.jmd.control.ControlClient c = target.connect()) {
                return ControlCommands.print(c.call("detail", target.arrayOrDash()));
            }
        }
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
