// A version-independent face of oneDNN's C API for Sluice's Inference module.
//
// oneDNN 2.x creates primitive descriptors from operation descriptors (`*_desc_init` then
// `dnnl_primitive_desc_create`) and passes memory descriptors by value; 3.x creates primitive
// descriptors directly and passes memory descriptors as opaque handles. Every call whose signature
// differs lives behind this header (sluice_dnnl.c, `#if DNNL_VERSION_MAJOR >= 3`); the calls that are the
// same in both (engines, streams, primitives, execution, memory handles) are used from Swift directly.
#ifndef SLUICE_DNNL_H
#define SLUICE_DNNL_H

#include <stddef.h>
#include <stdint.h>
#include <oneapi/dnnl/dnnl.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An owned memory descriptor (2.x: a heap copy of the struct; 3.x: a cloned handle).
typedef struct sldnn_md_s *sldnn_md;

typedef enum {
    SLDNN_F32 = 0,
    SLDNN_BF16 = 1,
    SLDNN_F16 = 2,
    SLDNN_S8 = 3,
    SLDNN_U8 = 4,
    SLDNN_S32 = 5,
} sldnn_dtype;

/// Layouts Sluice names; SLDNN_ANY lets the primitive choose (blocked layouts).
typedef enum {
    SLDNN_ANY = 0,
    SLDNN_A = 1,      // 1-D
    SLDNN_AB = 2,     // 2-D row-major (nc, oi)
    SLDNN_ABCD = 3,   // 4-D (nchw, oihw)
    SLDNN_ACDB = 4,   // 4-D channels-last (nhwc)
    SLDNN_ABCDE = 5,  // 5-D (goihw: grouped convolution weights)
    SLDNN_ABC = 6,    // 3-D row-major
} sldnn_layout;

typedef enum {
    SLDNN_RELU = 0,    // max(x, 0)
    SLDNN_CLIP = 1,    // min(max(x, alpha), beta), e.g. ReLU6
    SLDNN_LOGISTIC = 2, // 1 / (1 + exp(-x))
    SLDNN_HARDSWISH = 3, // x * min(max(x + 3, 0), 6) / 6 (alpha = 1/6, beta = 1/2 where the library asks)
    SLDNN_SWISH = 4,   // x / (1 + exp(-alpha x)): SiLU with alpha = 1
    SLDNN_LINEAR = 5,  // alpha x + beta
} sldnn_eltwise;

typedef enum {
    SLDNN_POOL_MAX = 0,
    SLDNN_POOL_AVG_INCLUDE_PADDING = 1,
    SLDNN_POOL_AVG_EXCLUDE_PADDING = 2,
} sldnn_pooling;

typedef enum {
    SLDNN_BINARY_ADD = 0,
    SLDNN_BINARY_MUL = 1,
    SLDNN_BINARY_SUB = 2,
    SLDNN_BINARY_DIV = 3,
} sldnn_binary;

/// One post-op: an eltwise, or a sum that adds the destination's previous content times `scale`.
typedef struct {
    int is_sum;             // 1: sum; 0: eltwise
    sldnn_eltwise eltwise;  // eltwise only
    float alpha;            // eltwise only
    float beta;             // eltwise only
    float scale;            // sum only
    int sum_dtype;          // sum only: an sldnn_dtype the previous destination holds, or -1 for dst's type
} sldnn_post_op;

// Memory descriptors.
dnnl_status_t sldnn_md_create(sldnn_md *md, int ndims, const int64_t *dims, sldnn_dtype dtype,
                              sldnn_layout layout);
void sldnn_md_destroy(sldnn_md md);
size_t sldnn_md_size(const struct sldnn_md_s *md);
int sldnn_md_equal(const struct sldnn_md_s *lhs, const struct sldnn_md_s *rhs);
/// A copy of a primitive descriptor's memory descriptor: `what` is dnnl_query_src_md, _weights_md,
/// _dst_md, _scratchpad_md...; a query the primitive does not have yields a zero-size descriptor.
dnnl_status_t sldnn_pd_query_md(sldnn_md *md, const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index);
/// The same layout with another element type of the same size (int8 residuals read as s8 by a u8
/// destination). oneDNN 3.x has no such setter: there it returns dnnl_unimplemented.
dnnl_status_t sldnn_md_retype(sldnn_md *md, const struct sldnn_md_s *source, sldnn_dtype dtype);
dnnl_status_t sldnn_memory_create(dnnl_memory_t *memory, const struct sldnn_md_s *md, dnnl_engine_t engine,
                                  void *handle);
/// The descriptor's element type; -1 for one Sluice does not name.
int sldnn_md_dtype(const struct sldnn_md_s *md);

/// The smallest and largest of `n` floats (int8 calibration: C, because debug Swift loops are slow);
/// `*lo` and `*hi` are left as they are when `n` is 0, and only widened otherwise.
void sldnn_widen_range(const float *values, size_t n, float *lo, float *hi);

/// Symmetric per-output-channel int8 weights: `outputs` rows of `per_output` floats become
/// round(w × scale) with scale = 127 / max |w| of the row (1 for an all-zero row), written to `scales`.
void sldnn_quantize_rows(const float *weights, size_t outputs, size_t per_output, int8_t *quantized, float *scales);

/// An int8 per-channel scale and shift over `pixels` channels-last rows of `channels` values:
/// dst = saturate(round(src × scale[c] + shift[c])), clamped below at 0 where `relu` (an inference batch norm
/// with its ReLU, scales folded in). src and dst are s8, or u8 where `*_unsigned`; rounding is to nearest even.
/// Runs on oneDNN's OpenMP threads (the calling thread's count) where the library uses OpenMP.
void sldnn_channel_scale_shift_int8(const void *src, int src_unsigned, void *dst, int dst_unsigned, size_t pixels,
                                    size_t channels, const float *scale, const float *shift, int relu);

/// Planar float32 RGB images [images][3][pixels] as channels-last [images][pixels][3] of `dtype`: float32, bf16
/// (rounded to nearest even), or s8 / u8 as round(x × scale) to nearest even, saturated (`scale` is used for
/// those only). Runs on oneDNN's OpenMP threads, as `sldnn_channel_scale_shift_int8`.
void sldnn_rgb_to_channels_last(const float *src, void *dst, sldnn_dtype dtype, size_t images, size_t pixels, float scale);

// Attributes: post-ops. Every attribute asks for a user-managed scratchpad: a primitive created with one
// reports its scratch space as dnnl_query_scratchpad_md and gets it as DNNL_ARG_SCRATCHPAD at execution.
dnnl_status_t sldnn_attr_create(dnnl_primitive_attr_t *attr, int n_post_ops, const sldnn_post_op *post_ops);
/// Attributes for int8 primitives: the result (bias included) is multiplied by `scales` (one value, mask 0;
/// or one per output channel, mask 1 << 1 for convolutions and inner products) before the post-ops, as
/// oneDNN 2.x's output scales. oneDNN 3.x moved scales to run-time arguments with other semantics: there
/// this returns dnnl_unimplemented (int8 needs oneDNN 2.x for now).
dnnl_status_t sldnn_attr_create_scaled(dnnl_primitive_attr_t *attr, int n_post_ops, const sldnn_post_op *post_ops,
                                       int n_scales, int mask, const float *scales);

// Primitive descriptors (forward inference). A NULL bias means none.
typedef enum {
    SLDNN_CONV_DIRECT = 0,
    SLDNN_CONV_WINOGRAD = 1,  // 3×3, stride 1: fewer multiplications; not every oneDNN build or CPU has it
} sldnn_conv_algorithm;
dnnl_status_t sldnn_convolution_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_conv_algorithm algorithm,
                                   const struct sldnn_md_s *src, const struct sldnn_md_s *weights,
                                   const struct sldnn_md_s *bias, const struct sldnn_md_s *dst,
                                   const int64_t strides[2], const int64_t dilates[2],
                                   const int64_t padding_l[2], const int64_t padding_r[2],
                                   const_dnnl_primitive_attr_t attr);
dnnl_status_t sldnn_pooling_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_pooling kind,
                               const struct sldnn_md_s *src, const struct sldnn_md_s *dst,
                               const int64_t strides[2], const int64_t kernel[2], const int64_t dilation[2],
                               const int64_t padding_l[2], const int64_t padding_r[2],
                               const_dnnl_primitive_attr_t attr);
dnnl_status_t sldnn_inner_product_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                     const struct sldnn_md_s *src, const struct sldnn_md_s *weights,
                                     const struct sldnn_md_s *bias, const struct sldnn_md_s *dst,
                                     const_dnnl_primitive_attr_t attr);
/// 2.x computes eltwise in place on one descriptor: `dst` must equal `src` there.
dnnl_status_t sldnn_eltwise_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_eltwise kind,
                               float alpha, float beta, const struct sldnn_md_s *src,
                               const struct sldnn_md_s *dst, const_dnnl_primitive_attr_t attr);
dnnl_status_t sldnn_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_binary kind,
                              const struct sldnn_md_s *src0, const struct sldnn_md_s *src1,
                              const struct sldnn_md_s *dst, const_dnnl_primitive_attr_t attr);
dnnl_status_t sldnn_softmax_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *src,
                               const struct sldnn_md_s *dst, int axis, const_dnnl_primitive_attr_t attr);
/// Inference batch-norm with the given statistics and a per-channel scale and shift (2.x: `dst` must
/// equal `src`).
dnnl_status_t sldnn_batch_norm_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *src,
                                  const struct sldnn_md_s *dst, float epsilon, const_dnnl_primitive_attr_t attr);
/// Concatenation of `n` sources along `axis`; `dst` NULL lets the library choose the destination's layout.
dnnl_status_t sldnn_concat_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *dst,
                              int n, int axis, const struct sldnn_md_s *const *srcs, const_dnnl_primitive_attr_t attr);
dnnl_status_t sldnn_reorder_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *src,
                               const struct sldnn_md_s *dst, const_dnnl_primitive_attr_t attr);

/// The implementation oneDNN dispatched for a primitive descriptor, e.g. "brg:avx512_core" (static text).
const char *sldnn_pd_impl_name(const_dnnl_primitive_desc_t pd);
/// oneDNN's version as "major.minor.patch" (static text).
const char *sldnn_version_string(void);
/// The most capable instruction set oneDNN will use here, e.g. "avx512_core_bf16".
const char *sldnn_effective_isa(void);

/// Sets the number of threads oneDNN's OpenMP runtime gives the calling thread's next primitives;
/// returns 0 where the library's threading runtime has no such setting.
int sldnn_set_num_threads(int n);
int sldnn_max_threads(void);

#ifdef __cplusplus
}
#endif

#endif
