package io.jmd.control;

import java.util.ArrayList;
import java.util.List;

/**
 * The control socket's line protocol (UTF-8, one request per line, fields separated by TAB so
 * that paths may hold spaces):
 *
 * <pre>
 *   request   VERB [TAB ARG]...                                   at most {@link #LINE_BYTES_MAX} bytes
 *   reply     ("= " TEXT LF)*  then one status line:
 *               OK [message]            done
 *               ERR ERRNO message       refused or failed (ERRNO as Linux names it: EBUSY, EINVAL...)
 *               EAGAIN TOKEN message    started; ask "result TOKEN" until it is OK or ERR
 *   monitor   "OK monitoring", then ("EVENT " LINE LF)* until either side closes
 *
 *   verbs     arrays | status | detail [ARRAY] | fail ARRAY MEMBER | remove ARRAY MEMBER
 *             | add ARRAY PATH | re-add ARRAY PATH | result TOKEN
 *             | action ARRAY check|repair|resync|idle|frozen | speed ARRAY MIN_KIB MAX_KIB
 *             | monitor [test]
 *   ARRAY     an array's name, or "-" for the only one served
 * </pre>
 * Seed 004: nothing a request starts makes the connection's thread wait for the md thread or a
 * superblock write; member changes that need them run on the array's work queue and answer
 * EAGAIN at once.
 */
public final class ControlProtocol {
    public static final int LINE_BYTES_MAX = 4096;
    public static final String SEP = "\t";

    private ControlProtocol() {
    }

    /** The request line for {@code verb} and {@code args}; refuses fields the protocol cannot carry. */
    public static String request(String verb, String... args) {
        StringBuilder sb = new StringBuilder(verb);
        for (String a : args) {
            if (a.contains("\t") || a.contains("\n") || a.contains("\r")) {
                throw new IllegalArgumentException("control argument with a tab or newline: " + a);
            }
            sb.append(SEP).append(a);
        }
        return sb.toString();
    }

    /** Splits a request line into verb and arguments. */
    public static List<String> fields(String line) {
        List<String> out = new ArrayList<>(List.of(line.split(SEP, -1)));
        out.removeIf(String::isEmpty);
        return out;
    }
}
