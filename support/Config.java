package mgpt;

/** The model's shape, checked once so that every engine and tool rejects the same bad values. */
public record Config(int n_layer, int n_embd, int block_size, int n_head) {
    public Config {
        if (n_layer < 1) throw UserError.usage("--n-layer must be at least 1 (got " + n_layer + ")");
        if (n_embd < 1) throw UserError.usage("--n-embd must be at least 1 (got " + n_embd + ")");
        if (n_head < 1) throw UserError.usage("--n-head must be at least 1 (got " + n_head + ")");
        if (block_size < 1) throw UserError.usage("--block-size must be at least 1 (got " + block_size + ")");
        if (n_embd % n_head != 0)
            throw UserError.usage("--n-embd (" + n_embd + ") must be divisible by --n-head (" + n_head
                    + "); try --n-head " + largestDivisorAtMost(n_embd, n_head));
    }

    public int head_dim() { return n_embd / n_head; }

    static int largestDivisorAtMost(int n, int max) {
        for (int d = Math.min(n, max); d > 1; d--) if (n % d == 0) return d;
        return 1;
    }
}
