/// The CUDA C source of Sluice's own kernels, compiled at run time by NVRTC (no CUDA headers: 16-bit
/// floats are converted with PTX `cvt`, which for bfloat16 needs compute_80 or later).
///
/// Every entry point is `extern "C"` and listed, with its parameters in order, in `CUDAKernels.entryPoints`;
/// `T` is `unsigned short` (float16 or bfloat16 bits) or `float`, per the `_f16` / `_bf16` / `_f32` suffix.
/// Kernels loop over their elements with a grid stride, so any grid size is correct.
public enum CUDAKernelSource {
    /// NVRTC options the source is compiled with (plus `--gpu-architecture=compute_XY`).
    public static let compileOptions = ["--std=c++17"]

    public static let text = #"""
struct F16 {
    typedef unsigned short T;
    static __device__ __forceinline__ float load(T v) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v)); return f; }
    static __device__ __forceinline__ T store(float f) { T v; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(v) : "f"(f)); return v; }
};
struct BF16 {
    typedef unsigned short T;
    static __device__ __forceinline__ float load(T v) { return __uint_as_float(((unsigned int)v) << 16); }
    static __device__ __forceinline__ T store(float f) { T v; asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(v) : "f"(f)); return v; }
};
struct F32 {
    typedef float T;
    static __device__ __forceinline__ float load(T v) { return v; }
    static __device__ __forceinline__ T store(float f) { return f; }
};

#define SLUICE_GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

// Activation kinds (CUDAKernels.ActivationCode): 0 relu, 1 clip [alpha, beta], 2 leaky relu (alpha),
// 3 sigmoid, 4 hard sigmoid (alpha·x + beta, clipped to [0, 1]), 5 hard swish, 6 swish.
static __device__ __forceinline__ float sluice_activate(float x, int kind, float alpha, float beta) {
    switch (kind) {
    case 0: return fmaxf(x, 0.0f);
    case 1: return fminf(fmaxf(x, alpha), beta);
    case 2: return x >= 0.0f ? x : alpha * x;
    case 3: return 1.0f / (1.0f + __expf(-x));
    case 4: return fminf(fmaxf(alpha * x + beta, 0.0f), 1.0f);
    case 5: return x * fminf(fmaxf(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    case 6: return x / (1.0f + __expf(-x));
    default: return x;
    }
}

static __device__ __forceinline__ unsigned int sluice_pack(unsigned short lo, unsigned short hi) {
    return (unsigned int)lo | ((unsigned int)hi << 16);
}

// One pixel's `channels` values (at most 8) stored with one vector store where the width allows: 8 × 16-bit
// (16 bytes), 4 × 16-bit (8 bytes), 4 × float (16 bytes). The arena keeps tensors 64-byte aligned.
template <class D>
static __device__ __forceinline__ void sluice_store_pixel(typename D::T* dst, long long pixel, int channels, const float* v) {
    typename D::T* out = dst + pixel * channels;
    if (sizeof(typename D::T) == 2 && channels == 8) {
        uint4 u;
        u.x = sluice_pack(D::store(v[0]), D::store(v[1]));
        u.y = sluice_pack(D::store(v[2]), D::store(v[3]));
        u.z = sluice_pack(D::store(v[4]), D::store(v[5]));
        u.w = sluice_pack(D::store(v[6]), D::store(v[7]));
        *reinterpret_cast<uint4*>(out) = u;
    } else if (sizeof(typename D::T) == 2 && channels == 4) {
        uint2 u;
        u.x = sluice_pack(D::store(v[0]), D::store(v[1]));
        u.y = sluice_pack(D::store(v[2]), D::store(v[3]));
        *reinterpret_cast<uint2*>(out) = u;
    } else if (sizeof(typename D::T) == 4 && channels == 4) {
        *reinterpret_cast<float4*>(out) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
        for (int c = 0; c < channels; ++c) out[c] = D::store(v[c]);
    }
}

// uint8 NHWC crops → x · scale[c] + shift[c] (= (x / divisor − mean) / std) in NHWC with `dstChannels`
// (≤ 8; channels past `srcChannels` (≤ 4) are zero). One thread per output pixel: a warp reads 32 adjacent
// pixels' bytes and writes 32 adjacent pixel vectors, both contiguous.
template <class D>
static __device__ void sluice_normalize(const unsigned char* src, typename D::T* dst, long long pixels,
                                        int srcChannels, int dstChannels, float s0, float s1, float s2, float s3,
                                        float h0, float h1, float h2, float h3) {
    const float scale[4] = {s0, s1, s2, s3};
    const float shift[4] = {h0, h1, h2, h3};
    SLUICE_GRID_STRIDE(p, pixels) {
        float v[8];
        const unsigned char* in = src + p * srcChannels;
        for (int c = 0; c < 8; ++c) v[c] = (c < srcChannels && c < 4) ? (float)in[c] * scale[c] + shift[c] : 0.0f;
        sluice_store_pixel<D>(dst, p, dstChannels, v);
    }
}

// float32 NCHW → NHWC in the compute type with `dstChannels` (zero past `srcChannels`). One thread per pixel.
template <class D>
static __device__ void sluice_nchw_to_nhwc(const float* src, typename D::T* dst, long long batch, long long hw,
                                           int srcChannels, int dstChannels) {
    SLUICE_GRID_STRIDE(p, batch * hw) {
        long long n = p / hw, q = p - n * hw;
        const float* in = src + n * srcChannels * hw + q;
        if (dstChannels <= 8) {
            float v[8];
            for (int c = 0; c < 8; ++c) v[c] = c < srcChannels ? in[c * hw] : 0.0f;
            sluice_store_pixel<D>(dst, p, dstChannels, v);
        } else {
            for (int c = 0; c < dstChannels; ++c) dst[p * dstChannels + c] = D::store(c < srcChannels ? in[c * hw] : 0.0f);
        }
    }
}

template <class D>
static __device__ void sluice_activation(const typename D::T* x, typename D::T* y, long long count, int kind,
                                         float alpha, float beta) {
    SLUICE_GRID_STRIDE(i, count) y[i] = D::store(sluice_activate(D::load(x[i]), kind, alpha, beta));
}

// y = act(x · scale[c] + shift[c]) over NHWC (c = i mod channels); kind −1: no activation.
template <class D>
static __device__ void sluice_scale_shift(const typename D::T* x, typename D::T* y, const float* scale, const float* shift,
                                          long long count, int channels, int kind, float alpha, float beta) {
    SLUICE_GRID_STRIDE(i, count) {
        int c = (int)(i % channels);
        float v = D::load(x[i]) * scale[c] + shift[c];
        y[i] = D::store(kind < 0 ? v : sluice_activate(v, kind, alpha, beta));
    }
}

// y = a ∘ b over dims (d0, d1, d2, d3), row-major (d0 implied by count); b read at Σ i_k · s_k.
// op: 0 add, 1 sub, 2 mul, 3 div.
template <class D>
static __device__ void sluice_binary(const typename D::T* a, const typename D::T* b, typename D::T* y, long long count,
                                     int op, int d1, int d2, int d3, long long s0, long long s1, long long s2, long long s3) {
    SLUICE_GRID_STRIDE(i, count) {
        long long t = i;
        long long i3 = t % d3; t /= d3;
        long long i2 = t % d2; t /= d2;
        long long i1 = t % d1; long long i0 = t / d1;
        float u = D::load(a[i]), v = D::load(b[i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3]);
        float r = op == 0 ? u + v : op == 1 ? u - v : op == 2 ? u * v : u / v;
        y[i] = D::store(r);
    }
}

// dst[z][c][r] = src[z][r][c] for `gridDim.z` matrices of rows × cols, through 32 × 32 tiles in shared
// memory so both the reads and the writes are coalesced. Block (32, 8); grid (⌈cols/32⌉, ⌈rows/32⌉, batch).
template <class D>
static __device__ void sluice_transpose(const typename D::T* src, typename D::T* dst, int rows, int cols) {
    __shared__ typename D::T tile[32][33];
    long long base = (long long)blockIdx.z * rows * cols;
    int c = blockIdx.x * 32 + threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int r = blockIdx.y * 32 + j;
        if (r < rows && c < cols) tile[j][threadIdx.x] = src[base + (long long)r * cols + c];
    }
    __syncthreads();
    int r = blockIdx.y * 32 + threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int cc = blockIdx.x * 32 + j;
        if (cc < cols && r < rows) dst[base + (long long)cc * rows + r] = tile[threadIdx.x][j];
    }
}

// Copies an NHWC tensor of srcChannels into channels [offset, offset + srcChannels) of one of dstChannels.
template <class D>
static __device__ void sluice_copy_channels(const typename D::T* src, typename D::T* dst, long long pixels,
                                            int srcChannels, int dstChannels, int offset) {
    SLUICE_GRID_STRIDE(i, pixels * srcChannels) {
        long long p = i / srcChannels;
        dst[p * dstChannels + offset + (i - p * srcChannels)] = src[i];
    }
}

template <class S, class D>
static __device__ void sluice_convert(const typename S::T* src, typename D::T* dst, long long count) {
    SLUICE_GRID_STRIDE(i, count) dst[i] = D::store(S::load(src[i]));
}

#define SLUICE_TYPED_KERNELS(sfx, D) \
extern "C" __global__ void sluice_normalize_u8_##sfx(const unsigned char* src, D::T* dst, long long pixels, int srcChannels, \
    int dstChannels, float s0, float s1, float s2, float s3, float h0, float h1, float h2, float h3) { \
    sluice_normalize<D>(src, dst, pixels, srcChannels, dstChannels, s0, s1, s2, s3, h0, h1, h2, h3); } \
extern "C" __global__ void sluice_nchw_f32_to_nhwc_##sfx(const float* src, D::T* dst, long long batch, long long hw, \
    int srcChannels, int dstChannels) { sluice_nchw_to_nhwc<D>(src, dst, batch, hw, srcChannels, dstChannels); } \
extern "C" __global__ void sluice_activation_##sfx(const D::T* x, D::T* y, long long count, int kind, float alpha, float beta) { \
    sluice_activation<D>(x, y, count, kind, alpha, beta); } \
extern "C" __global__ void sluice_scale_shift_##sfx(const D::T* x, D::T* y, const float* scale, const float* shift, \
    long long count, int channels, int kind, float alpha, float beta) { \
    sluice_scale_shift<D>(x, y, scale, shift, count, channels, kind, alpha, beta); } \
extern "C" __global__ void sluice_binary_##sfx(const D::T* a, const D::T* b, D::T* y, long long count, int op, int d1, int d2, \
    int d3, long long s0, long long s1, long long s2, long long s3) { \
    sluice_binary<D>(a, b, y, count, op, d1, d2, d3, s0, s1, s2, s3); } \
extern "C" __global__ void sluice_transpose_##sfx(const D::T* src, D::T* dst, int rows, int cols) { \
    sluice_transpose<D>(src, dst, rows, cols); } \
extern "C" __global__ void sluice_copy_channels_##sfx(const D::T* src, D::T* dst, long long pixels, int srcChannels, \
    int dstChannels, int offset) { sluice_copy_channels<D>(src, dst, pixels, srcChannels, dstChannels, offset); }

SLUICE_TYPED_KERNELS(f16, F16)
SLUICE_TYPED_KERNELS(bf16, BF16)
SLUICE_TYPED_KERNELS(f32, F32)

extern "C" __global__ void sluice_convert_f16_to_f32(const F16::T* src, float* dst, long long count) { sluice_convert<F16, F32>(src, dst, count); }
extern "C" __global__ void sluice_convert_bf16_to_f32(const BF16::T* src, float* dst, long long count) { sluice_convert<BF16, F32>(src, dst, count); }
extern "C" __global__ void sluice_convert_f32_to_f16(const float* src, F16::T* dst, long long count) { sluice_convert<F32, F16>(src, dst, count); }
extern "C" __global__ void sluice_convert_f32_to_bf16(const float* src, BF16::T* dst, long long count) { sluice_convert<F32, BF16>(src, dst, count); }

// Softmax over each of `rows` rows of `cols` floats: one block of 256 threads per row (grid-stride over rows).
extern "C" __global__ void sluice_softmax_f32(const float* x, float* y, int rows, int cols) {
    __shared__ float scratch[256];
    for (int row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* in = x + (long long)row * cols;
        float* out = y + (long long)row * cols;
        float m = __int_as_float(0xff800000);
        for (int i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, in[i]);
        scratch[threadIdx.x] = m;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) scratch[threadIdx.x] = fmaxf(scratch[threadIdx.x], scratch[threadIdx.x + s]);
            __syncthreads();
        }
        m = scratch[0];
        __syncthreads();
        float sum = 0.0f;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) sum += expf(in[i] - m);
        scratch[threadIdx.x] = sum;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) scratch[threadIdx.x] += scratch[threadIdx.x + s];
            __syncthreads();
        }
        float inverse = 1.0f / scratch[0];
        __syncthreads();
        for (int i = threadIdx.x; i < cols; i += blockDim.x) out[i] = expf(in[i] - m) * inverse;
    }
}
"""#
}
