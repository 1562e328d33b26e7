package io.jmd.cli;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.FileBlockDevice;
import io.jmd.md.Assembler;
import io.jmd.md.Creator;
import io.jmd.md.MdArray;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.SuperblockLocation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code jmd create}: mdadm --create's options and defaults. Missing member files are created
 * sparse when {@code --member-size} is given. Wrong arguments are refused before anything is
 * written.
 */
@Command(name = "create", aliases = {"-C", "--create"}, description = "Create a new array over MEMBERs (like mdadm --create).")
final class CreateCommand implements Callable<Integer> {
    /** mdadm adds an internal bitmap by default to redundant arrays of at least 100 GiB. */
    static final long BITMAP_AUTO_THRESHOLD_BYTES = 100L << 30;

    @Option(names = {"-l", "--level"}, required = true,
        description = "RAID level: linear, 0 (raid0, stripe), 1 (raid1, mirror), 4, 5, 6, 10")
    String level;

    @Option(names = {"-p", "--layout", "--parity"},
        description = "data layout: raid5/6 left-symmetric (default), ls, la, rs, ra, parity-first, parity-last"
            + " (raid6 also the -6 and ddf layouts); raid10 n2 (default), f2, o2, nN/fN/oN; raid0 original (default), alternate")
    String layout;

    @Option(names = {"-n", "--raid-devices"}, required = true, description = "number of active devices")
    int raidDevices;

    @Option(names = {"-N", "--name"}, defaultValue = "jmd", description = "array name (default: ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--homehost", description = "homehost stored with the name (default: this host's name; <none> for none)")
    String homehost;

    @Option(names = {"-z", "--size"}, description = "space to use on each member (K default unit; suffixes K M G T)")
    String size;

    @Option(names = {"-c", "--chunk", "--rounding"}, description = "chunk size (K default unit; default 512K); linear: rounding; not used by raid1")
    String chunk;

    @Option(names = {"-e", "--metadata"}, defaultValue = "1.2", description = "superblock version: 1.0, 1.1, 1.2 (default)")
    String metadata;

    @Option(names = {"-b", "--bitmap"}, defaultValue = "auto",
        description = "internal | none (default: internal for arrays of 100 GiB or more, as mdadm)")
    String bitmap;

    @Option(names = "--bitmap-chunk", paramLabel = "SIZE",
        description = "bytes of data one bitmap bit covers (K default unit, a power of two of at least 4K; default: mdadm's choice)")
    String bitmapChunk;

    @Option(names = "--assume-clean", description = "members already agree: skip the initial resync")
    boolean assumeClean;

    @Option(names = {"-f", "--force"}, description = "overwrite members that already carry an md superblock")
    boolean force;

    @Option(names = "--member-size", description = "create missing member files, sparse, of this size (e.g. 1G); not for nbd:// members")
    String memberSize;

    @Parameters(arity = "1..*", paramLabel = "MEMBER",
        description = "member files, block devices or NBD exports (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH), in slot order")
    List<String> members;

    @Override
    public Integer call() throws Exception {
        CreateOptions options = options();
        long sizeBytes = size == null ? 0 : Sizes.parse(size, 1024, "--size");
        long createBytes = memberSize == null ? 0 : Sizes.parse(memberSize, 1024, "--member-size");
        checkMembers(createBytes);
        try (Env env = CliSupport.env()) {
            List<BlockDevice> devices = new ArrayList<>();
            List<Path> created = new ArrayList<>();
            Creator.Result result;
            try {
                for (String m : members) {
                    devices.add(open(env, m, createBytes, created));
                }
                options = withBitmapChoice(options, devices);
                boolean zeroed = created.size() == members.size();
                result = Creator.create(env, devices, new Creator.Request(options, homehost(), name, sizeBytes,
                    assumeClean, zeroed, force));
            } catch (Exception e) {
                closeAll(devices);
                for (Path p : created) {
                    Files.deleteIfExists(p);
                }
                throw e;
            }
            closeAll(devices);
            long perDevice = result.arrayBytes() > 0 ? result.arrayBytes() : result.superblock().dataSizeSectors() * 512;
            System.out.printf("jmd: array %s created: %s, %d devices, %s per device, metadata %s%s%n",
                result.superblock().setName().text(), options.level().mdadmName(), options.raidDisks(),
                Sizes.human(perDevice), metadata, options.internalBitmap() ? ", internal bitmap" : "");
            if (result.needsResync()) {
                System.out.println("jmd: initial resync (members were not known to agree) ...");
                try (MdArray a = Assembler.assemble(env, CliSupport.opener(env), members, Assembler.Options.DEFAULT)) {
                    a.redundancy().awaitSyncIdle();
                    System.out.println("jmd: resync done; array " + a.name() + " is " + (a.needsResync() ? "dirty" : "clean"));
                }
            }
        }
        return 0;
    }

    private CreateOptions options() throws CliException {
        RaidLevel l = LevelOptions.level(level);
        int maxDevices = 64; // every level jmd runs tracks its members in a long
        if (raidDevices < l.minRaidDisks() || raidDevices > maxDevices) {
            throw new CliException("--raid-devices=" + raidDevices + ": must be " + l.minRaidDisks() + ".." + maxDevices
                + " for " + l.mdadmName(), 2);
        }
        if (chunk != null && l == RaidLevel.RAID1) {
            throw new CliException("--chunk: raid1 has no chunk size (specifying one is forbidden for this level)", 2);
        }
        SuperblockLocation loc = switch (metadata) {
            case "1.2", "1", "default" -> SuperblockLocation.V1_2;
            case "1.1" -> SuperblockLocation.V1_1;
            case "1.0" -> SuperblockLocation.V1_0;
            default -> throw new CliException("--metadata=" + metadata + ": jmd writes v1 metadata only (1.0, 1.1, 1.2)", 2);
        };
        if (!List.of("internal", "none", "auto").contains(bitmap)) {
            throw new CliException("--bitmap=" + bitmap + ": use internal or none (external bitmap files are not supported)", 2);
        }
        if (members.size() != raidDevices) {
            throw new CliException("--raid-devices=" + raidDevices + " but " + members.size() + " member"
                + (members.size() == 1 ? "" : "s") + " given", 2);
        }
        try {
            CreateOptions o = CreateOptions.defaults(l, raidDevices).withLayout(LevelOptions.layout(l, layout));
            if (chunk != null) {
                o = o.withChunkKib(Math.toIntExact(Sizes.parse(chunk, 1024, "--chunk") / 1024));
            }
            boolean bitmapWanted = bitmap.equals("internal");
            if (bitmapWanted && !l.hasComponentSize()) {
                throw new CliException("--bitmap=internal: " + l.mdadmName() + " has no redundancy to track", 2);
            }
            if (bitmapChunk != null) {
                o = o.withBitmapChunkBytes(Math.toIntExact(Sizes.parse(bitmapChunk, 1024, "--bitmap-chunk")));
            }
            return o.withLocation(loc).withInternalBitmap(bitmapWanted);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), 2);
        }
    }

    private CreateOptions withBitmapChoice(CreateOptions o, List<BlockDevice> devices) {
        if (!bitmap.equals("auto") || !o.level().hasComponentSize()) {
            return o;
        }
        long smallest = devices.stream().mapToLong(BlockDevice::sizeBytes).min().orElse(0);
        return o.withInternalBitmap(smallest >= BITMAP_AUTO_THRESHOLD_BYTES);
    }

    private void checkMembers(long createBytes) throws CliException {
        for (int i = 0; i < members.size(); i++) {
            for (int j = i + 1; j < members.size(); j++) {
                if (sameMember(members.get(i), members.get(j))) {
                    throw new CliException(members.get(i) + " is listed twice", 2);
                }
            }
            if (CliSupport.isNbd(members.get(i))) {
                checkUri(members.get(i));
                continue; // a remote export exists or not: opening it tells
            }
            if (!Files.exists(Path.of(members.get(i))) && createBytes == 0) {
                throw new CliException(members.get(i) + ": no such file (give --member-size=SIZE to create member files)");
            }
        }
    }

    /** Two names of one member: the same file, or the same NBD URI. */
    private static boolean sameMember(String a, String b) {
        if (CliSupport.isNbd(a) || CliSupport.isNbd(b)) {
            return a.equals(b);
        }
        return Path.of(a).toAbsolutePath().normalize().equals(Path.of(b).toAbsolutePath().normalize());
    }

    private static void checkUri(String m) throws CliException {
        try {
            io.jmd.nbd.client.NbdUri.parse(m);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), 2);
        }
    }

    private static BlockDevice open(Env env, String m, long createBytes, List<Path> created) throws IOException {
        if (CliSupport.isNbd(m)) {
            return CliSupport.opener(env).open(m, false); // --member-size creates files only
        }
        Path p = Path.of(m);
        if (!Files.exists(p) && createBytes > 0) {
            FileBlockDevice d = FileBlockDevice.open(env, FileBlockDevice.Options.of(p).create(createBytes));
            created.add(p);
            return d;
        }
        return FileBlockDevice.open(env, FileBlockDevice.Options.of(p));
    }

    private Optional<String> homehost() {
        if (homehost != null) {
            return homehost.equals("<none>") ? Optional.empty() : Optional.of(homehost);
        }
        return HostName.get();
    }

    private static void closeAll(List<BlockDevice> devices) {
        for (BlockDevice d : devices) {
            d.close();
        }
    }
}
