package io.jmd.cli;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.FileBlockDevice;
import io.jmd.md.Assembler;
import io.jmd.md.Creator;
import io.jmd.md.MdArray;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.nbd.NbdServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code jmd start}: the embedded default. Creates (if absent) a RAID1 over two sparse member
 * files in ./jmd-data, assembles it and serves it on 127.0.0.1:10809, printing the URI and ready
 * client commands. Ctrl-C stops it clean.
 */
@Command(name = "start", description = "Create (if absent) the default RAID1 in ./jmd-data and serve it over NBD on 127.0.0.1.")
final class StartCommand implements Callable<Integer> {
    static final String ARRAY_NAME = "jmd-default";

    @Option(names = "--dir", defaultValue = "jmd-data", description = "folder of the member files (default: ${DEFAULT-VALUE})")
    Path dir;

    @Option(names = "--member-size", defaultValue = "1G", description = "size of each new sparse member file (default: ${DEFAULT-VALUE})")
    String memberSize;

    @Option(names = "--bind", defaultValue = NbdServer.DEFAULT_HOST, description = "address to listen on (default: ${DEFAULT-VALUE})")
    String bind;

    @Option(names = {"-p", "--port"}, defaultValue = "" + NbdServer.DEFAULT_PORT, description = "TCP port (default: ${DEFAULT-VALUE})")
    int port;

    @Override
    public Integer call() throws Exception {
        List<Path> members = List.of(dir.resolve("m0.img"), dir.resolve("m1.img"));
        try (Env env = CliSupport.env()) {
            boolean fresh = members.stream().noneMatch(Files::exists);
            if (fresh) {
                create(env, members, Sizes.parse(memberSize, 1024, "--member-size"));
            } else if (!members.stream().allMatch(Files::exists)) {
                throw new CliException(dir + " holds only some of m0.img, m1.img: move it away or restore the missing one,"
                    + " or serve what is there with: jmd serve --run " + String.join(" ", members.stream().map(Path::toString).toList()));
            }
            MdArray array = Assembler.assemble(env, CliSupport.opener(env), members.stream().map(Path::toString).toList(),
                Assembler.Options.DEFAULT);
            Serving.Listen listen = new Serving.Listen(bind, port, null, false, false);
            Serving.serve(env, List.of(new Serving.Exported(ARRAY_NAME, array, false)), listen, System.err,
                () -> banner(array, listen, fresh));
        }
        return 0;
    }

    private void create(Env env, List<Path> members, long bytes) throws Exception {
        Files.createDirectories(dir);
        List<BlockDevice> devs = new ArrayList<>();
        try {
            for (Path p : members) {
                devs.add(FileBlockDevice.open(env, FileBlockDevice.Options.of(p).create(bytes)));
            }
            Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID1, 2), HostName.get(),
                ARRAY_NAME, 0, false, true, false));
        } catch (Exception e) {
            devs.forEach(BlockDevice::close);
            for (Path p : members) {
                Files.deleteIfExists(p);
            }
            throw e;
        }
        devs.forEach(BlockDevice::close);
    }

    private static void banner(MdArray array, Serving.Listen listen, boolean fresh) {
        String uri = Serving.uri(listen, ARRAY_NAME);
        System.out.printf("""
            jmd: %s array %s: %s %s, %d MiB, members %s
            jmd: serving at %s   (Ctrl-C stops it clean)

              nbdinfo %s
              qemu-img info %s
              mkdir -p mnt && nbdfuse mnt/disk %s &    # then: ls -l mnt/disk

            """, fresh ? "created" : "assembled", ARRAY_NAME, array.personality().levelName(), array.personality().status(),
            array.sizeBytes() >> 20, String.join(" ", array.members().stream().map(m -> m.path()).toList()),
            uri, uri, uri, uri);
        System.out.flush();
    }
}
