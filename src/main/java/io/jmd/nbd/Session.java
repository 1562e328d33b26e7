package io.jmd.nbd;

/**
 * What option haggling agreed on, fixed for the whole transmission phase.
 *
 * @param export            the export chosen by NBD_OPT_GO or NBD_OPT_EXPORT_NAME
 * @param sizeBytes         the size the client was told; requests are checked against it
 * @param structuredReplies NBD_OPT_STRUCTURED_REPLY was acknowledged: READ and BLOCK_STATUS
 *                          replies are structured, and errors are sent as ERROR chunks
 * @param baseAllocation    base:allocation was selected for this export: BLOCK_STATUS is allowed
 * @param transmissionFlags the flags sent to the client; the validator holds clients to them
 */
record Session(Export export, long sizeBytes, boolean structuredReplies, boolean baseAllocation, int transmissionFlags) {
    Session {
        assert sizeBytes >= 0 : "negative export size";
        assert !baseAllocation || structuredReplies : "meta contexts need structured replies";
        assert (transmissionFlags & NbdProtocol.TFLAG_HAS_FLAGS) != 0 : "HAS_FLAGS is always set";
        assert structuredReplies == ((transmissionFlags & NbdProtocol.TFLAG_SEND_DF) != 0) : "DF iff structured";
    }

    boolean advertises(int transmissionFlag) {
        return (transmissionFlags & transmissionFlag) != 0;
    }
}
