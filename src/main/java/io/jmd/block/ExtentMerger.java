package io.jmd.block;

/**
 * Coalesces adjacent extents of the same kind before they reach an {@link BlockDevice.ExtentSink},
 * and asserts that they tile the asked range without gaps or overlaps. Single-use, one thread.
 */
final class ExtentMerger implements BlockDevice.ExtentSink {
    private final BlockDevice.ExtentSink out;
    private final long endBytes;
    private long startBytes;
    private long lengthBytes;
    private boolean hole;
    private boolean zero;

    ExtentMerger(long offsetBytes, long lengthBytes, BlockDevice.ExtentSink out) {
        this.out = out;
        this.startBytes = offsetBytes;
        this.endBytes = offsetBytes + lengthBytes;
    }

    @Override
    public void extent(long offsetBytes, long lengthBytes, boolean hole, boolean zero) {
        assert lengthBytes > 0 : "empty extent at " + offsetBytes;
        assert offsetBytes == startBytes + this.lengthBytes : "extent at " + offsetBytes + " leaves a gap or overlaps "
            + startBytes + "+" + this.lengthBytes;
        assert offsetBytes + lengthBytes <= endBytes : "extent past the asked range: " + offsetBytes + "+" + lengthBytes;
        assert !hole || zero : "a hole reads as zeroes";
        if (this.lengthBytes > 0 && (hole != this.hole || zero != this.zero)) {
            out.extent(startBytes, this.lengthBytes, this.hole, this.zero);
            startBytes = offsetBytes;
            this.lengthBytes = 0;
        }
        this.hole = hole;
        this.zero = zero;
        this.lengthBytes += lengthBytes;
    }

    /** Emits the last extent; asserts the range was covered. */
    void finish() {
        assert startBytes + lengthBytes == endBytes : "extents end at " + (startBytes + lengthBytes) + ", not " + endBytes;
        if (lengthBytes > 0) {
            out.extent(startBytes, lengthBytes, hole, zero);
        }
    }
}
