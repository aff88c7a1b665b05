package mgpt;

import java.math.BigInteger;
import java.util.Collections;
import java.util.List;

/**
 * CPython's random module, bit for bit: MT19937 and the few methods microgpt.py calls (seed, random,
 * getrandbits, _randbelow, shuffle, gauss, choices), and getstate/setstate for model files.
 * Everything random in a run comes from one of these, in the Python's order.
 */
public final class PyRandom {
    private final int[] mt = new int[624];
    private int mti;
    private double gauss_next;
    private boolean has_gauss_next;

    /** random.seed(n) for an integer n: the key is the 32-bit words of |n|, least significant first. */
    public PyRandom(long seed) {
        BigInteger n = BigInteger.valueOf(seed).abs();
        int words = Math.max(1, (n.bitLength() + 31) / 32);
        int[] key = new int[words];
        for (int i = 0; i < words; i++) key[i] = n.shiftRight(32 * i).intValue();
        init_by_array(key);
    }

    private void init_genrand(int s) {
        mt[0] = s;
        for (mti = 1; mti < 624; mti++) mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
    }

    private void init_by_array(int[] key) {
        init_genrand(19650218);
        int i = 1, j = 0;
        for (int k = Math.max(624, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++; j++;
            if (i >= 624) { mt[0] = mt[623]; i = 1; }
            if (j >= key.length) j = 0;
        }
        for (int k = 623; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= 624) { mt[0] = mt[623]; i = 1; }
        }
        mt[0] = 0x80000000;
        has_gauss_next = false;
    }

    /** random.getstate()'s numbers: the 624 words (unsigned) and the index. */
    public long[] getstate() {
        long[] state = new long[625];
        for (int i = 0; i < 624; i++) state[i] = mt[i] & 0xffffffffL;
        state[624] = mti;
        return state;
    }

    /** The rest of the state: whether a gauss value is cached (1 or 0), and the value. */
    public double[] getgauss() { return new double[]{has_gauss_next ? 1 : 0, gauss_next}; }

    /** random.setstate(): back to a state that getstate() and getgauss() returned. */
    public void setstate(long[] state, double[] gauss) {
        if (state.length != 625 || state[624] < 0 || state[624] > 624 || gauss.length != 2)
            throw new IllegalArgumentException("the index must be 0..624");
        for (int i = 0; i < 624; i++) {
            if (state[i] < 0 || state[i] > 0xffffffffL) throw new IllegalArgumentException("word " + i + " is not 32 bits");
            mt[i] = (int) state[i];
        }
        mti = (int) state[624];
        has_gauss_next = gauss[0] != 0;
        gauss_next = gauss[1];
    }

    /** The next 32 random bits, as an unsigned value in an int. */
    public int genrand_uint32() {
        if (mti >= 624) {
            for (int kk = 0; kk < 624; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % 624] & 0x7fffffff);
                mt[kk] = mt[(kk + 397) % 624] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            mti = 0;
        }
        int y = mt[mti++];
        y ^= (y >>> 11);
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= (y >>> 18);
        return y;
    }

    /** random.random(): 53 random bits in [0, 1). */
    public double random() {
        long a = (genrand_uint32() >>> 5) & 0xffffffffL, b = (genrand_uint32() >>> 6) & 0xffffffffL;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /** random.getrandbits(k) for 0 <= k <= 32. */
    public long getrandbits(int k) {
        if (k < 0 || k > 32) throw new IllegalArgumentException("k must be in [0, 32]");
        return k == 0 ? 0 : (genrand_uint32() & 0xffffffffL) >>> (32 - k);
    }

    /** random._randbelow(n): rejection sampling with the bit length of n itself. */
    public int randbelow(int n) {
        int k = 32 - Integer.numberOfLeadingZeros(n); // n.bit_length()
        long r = getrandbits(k);
        while (r >= n) r = getrandbits(k);
        return (int) r;
    }

    /** random.shuffle(x): Fisher-Yates from the end. */
    public <T> void shuffle(List<T> x) {
        for (int i = x.size() - 1; i > 0; i--) Collections.swap(x, i, randbelow(i + 1));
    }

    /** random.gauss(mu, sigma): returns the cos half now and caches the sin half for next call. */
    public double gauss(double mu, double sigma) {
        double z;
        if (has_gauss_next) {
            z = gauss_next;
            has_gauss_next = false;
        } else {
            double x2pi = random() * (2 * Math.PI);
            double g2rad = Math.sqrt(-2.0 * Math.log(1.0 - random()));
            z = Math.cos(x2pi) * g2rad;
            gauss_next = Math.sin(x2pi) * g2rad;
            has_gauss_next = true;
        }
        return mu + z * sigma;
    }

    /** random.choices(range(n), weights)[0]: bisect_right on the running sums, capped at n-1. */
    public int choices(double[] weights) {
        int n = weights.length;
        double[] cum = new double[n];
        double acc = 0;
        for (int i = 0; i < n; i++) cum[i] = acc = i == 0 ? weights[0] : acc + weights[i];
        double total = cum[n - 1] + 0.0;
        return bisect_right(cum, random() * total);
    }

    /** bisect_right(cum, u), capped at len(cum) - 1 as choices() caps it (u can round up to the total). */
    static int bisect_right(double[] cum, double u) {
        int lo = 0, hi = cum.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (u < cum[mid]) hi = mid; else lo = mid + 1;
        }
        return lo;
    }
}
