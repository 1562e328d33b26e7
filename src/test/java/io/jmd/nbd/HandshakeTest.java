package io.jmd.nbd;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.jmd.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HandshakeTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);
    private ServerFixture fx;

    @BeforeEach
    void start() throws IOException {
        fx = ServerFixture.start(jmd.env());
    }

    @AfterEach
    void stop() {
        fx.close();
    }

    private RawClient opened() throws IOException {
        RawClient c = RawClient.connect(fx.server);
        assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, c.greeting());
        c.clientFlags(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        return c;
    }

    @Test
    void unknownClientFlagDropsTheConnection() throws IOException {
        try (RawClient c = RawClient.connect(fx.server)) {
            c.greeting();
            c.clientFlags(FLAG_FIXED_NEWSTYLE | 0x100);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void unknownOptionsAreUnsupportedAndParsingContinues() throws IOException {
        try (RawClient c = opened()) {
            c.option(42, new byte[] {1, 2, 3});
            RawClient.OptionReply r = c.optionReply();
            assertEquals(42, r.option());
            assertEquals(REP_ERR_UNSUP, r.type());
            c.option(OPT_EXTENDED_HEADERS, new byte[0]);
            assertEquals(REP_ERR_UNSUP, c.optionReply().type());
            c.option(OPT_STARTTLS, new byte[0]);
            assertEquals(REP_ERR_UNSUP, c.optionReply().type());
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.optionReply().type());
        }
    }

    @Test
    void listNamesEveryExportWithItsDescription() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_LIST, new byte[0]);
            List<String> names = new ArrayList<>();
            List<String> descriptions = new ArrayList<>();
            while (true) {
                RawClient.OptionReply r = c.optionReply();
                if (r.type() == REP_ACK) {
                    break;
                }
                assertEquals(REP_SERVER, r.type());
                ByteBuffer d = ByteBuffer.wrap(r.data());
                byte[] n = new byte[d.getInt()];
                d.get(n);
                names.add(new String(n, StandardCharsets.UTF_8));
                byte[] rest = new byte[d.remaining()];
                d.get(rest);
                descriptions.add(new String(rest, StandardCharsets.UTF_8));
            }
            assertEquals(List.of("disk", "ro"), names);
            assertEquals(List.of("a test disk", ""), descriptions);
            c.option(OPT_LIST, new byte[1]);
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
        }
    }

    @Test
    void infoAnswersExportNameDescriptionAndBlockSizeThenHagglingGoesOn() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_INFO, RawClient.infoData("nope", INFO_NAME));
            assertEquals(REP_ERR_UNKNOWN, c.optionReply().type());
            c.option(OPT_INFO, RawClient.infoData("", INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE, 999));
            boolean export = false;
            boolean name = false;
            boolean description = false;
            boolean blockSize = false;
            while (true) {
                RawClient.OptionReply r = c.optionReply();
                assertEquals(OPT_INFO, r.option());
                if (r.type() == REP_ACK) {
                    break;
                }
                assertEquals(REP_INFO, r.type());
                ByteBuffer d = ByteBuffer.wrap(r.data());
                switch (d.getShort()) {
                    case INFO_EXPORT -> {
                        export = true;
                        assertEquals(ServerFixture.SIZE_BYTES, d.getLong());
                        int f = d.getShort();
                        assertEquals(0, f & TFLAG_READ_ONLY);
                        assertTrue((f & TFLAG_CAN_MULTI_CONN) != 0);
                        assertEquals(0, f & TFLAG_SEND_DF, "DF only with structured replies");
                    }
                    case INFO_NAME -> {
                        name = true;
                        assertEquals("disk", rest(d), "the default export's real name");
                    }
                    case INFO_DESCRIPTION -> {
                        description = true;
                        assertEquals("a test disk", rest(d));
                    }
                    case INFO_BLOCK_SIZE -> {
                        blockSize = true;
                        assertEquals(512, d.getInt());
                        assertEquals(4096, d.getInt());
                        assertEquals(32 << 20, d.getInt());
                    }
                    default -> throw new AssertionError("unasked info");
                }
            }
            assertTrue(export && name && description && blockSize);
            c.option(OPT_INFO, new byte[] {0, 0, 0, 9, 1});
            assertEquals(REP_ERR_INVALID, c.optionReply().type(), "name length overruns the data");
            c.option(OPT_GO, RawClient.infoData("ro"));
            RawClient.OptionReply r = c.optionReply();
            assertEquals(REP_INFO, r.type());
            assertTrue((ByteBuffer.wrap(r.data()).getShort(10) & TFLAG_READ_ONLY) != 0);
        }
    }

    private static String rest(ByteBuffer d) {
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void exportNameRepliesWithAndWithoutZeroes() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            ByteBuffer r = c.read(10);
            assertEquals(ServerFixture.SIZE_BYTES, r.getLong(0));
            c.request(0, CMD_FLUSH, 1, 0, 0);
            assertEquals(0, c.response().error());
        }
        try (RawClient c = RawClient.connect(fx.server)) {
            c.greeting();
            c.clientFlags(FLAG_FIXED_NEWSTYLE);
            c.option(OPT_EXPORT_NAME, new byte[0]);
            ByteBuffer r = c.read(134);
            assertEquals(ServerFixture.SIZE_BYTES, r.getLong(0));
            assertArrayEquals(new byte[124], java.util.Arrays.copyOfRange(r.array(), 10, 134));
        }
    }

    @Test
    void exportNameOfUnknownExportDisconnects() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_ABORT, new byte[0]);
            assertEquals(REP_ACK, c.optionReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void badOptionMagicDisconnects() throws IOException {
        try (RawClient c = opened()) {
            c.write(ByteBuffer.allocate(16).putLong(0, 0x1234).putInt(8, OPT_LIST));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void oversizedOptionIsSkippedAndRefused() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_LIST, new byte[Handshake.OPTION_DATA_MAX_BYTES + 1]);
            assertEquals(REP_ERR_TOO_BIG, c.optionReply().type());
            c.option(OPT_LIST, new byte[0]);
            assertEquals(REP_SERVER, c.optionReply().type());
        }
    }

    @Test
    void metaContextsNeedStructuredRepliesAndNameBaseAllocation() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_LIST_META_CONTEXT, RawClient.metaData("disk"));
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.optionReply().type());
            for (String[] queries : new String[][] {{}, {"base:"}, {"base:allocation"}}) {
                c.option(OPT_LIST_META_CONTEXT, RawClient.metaData("disk", queries));
                RawClient.OptionReply r = c.optionReply();
                assertEquals(REP_META_CONTEXT, r.type());
                assertEquals(CONTEXT_BASE_ALLOCATION, new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
                assertEquals(REP_ACK, c.optionReply().type());
            }
            c.option(OPT_SET_META_CONTEXT, RawClient.metaData("disk", "qemu:dirty-bitmap:x"));
            assertEquals(REP_ACK, c.optionReply().type(), "unknown contexts are ignored");
            c.option(OPT_SET_META_CONTEXT, RawClient.metaData("nope", CONTEXT_BASE_ALLOCATION));
            assertEquals(REP_ERR_UNKNOWN, c.optionReply().type());
            c.option(OPT_SET_META_CONTEXT, new byte[] {0, 0, 0, 0, 0, 0, 0, 2});
            assertEquals(REP_ERR_INVALID, c.optionReply().type(), "two queries promised, none sent");
            c.option(OPT_SET_META_CONTEXT, RawClient.metaData("disk", CONTEXT_BASE_ALLOCATION));
            RawClient.OptionReply r = c.optionReply();
            assertEquals(REP_META_CONTEXT, r.type());
            assertEquals(Handshake.BASE_ALLOCATION_ID, ByteBuffer.wrap(r.data()).getInt());
            assertEquals(REP_ACK, c.optionReply().type());
        }
    }

    @Test
    void metaContextOfAnotherExportDoesNotCarryOver() throws IOException {
        try (RawClient c = opened()) {
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            c.optionReply();
            c.option(OPT_SET_META_CONTEXT, RawClient.metaData("ro", CONTEXT_BASE_ALLOCATION));
            c.optionReply();
            c.optionReply();
            c.structured = true;
            c.option(OPT_GO, RawClient.infoData("disk"));
            while (c.optionReply().type() != REP_ACK) {
                // infos
            }
            c.request(0, CMD_BLOCK_STATUS, 7, 0, 4096);
            assertEquals(EINVAL, c.response().error());
        }
    }
}
