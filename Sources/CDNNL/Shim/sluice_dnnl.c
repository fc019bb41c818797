// The version-specific half of Sluice's oneDNN binding: see include/sluice_dnnl.h.
#include "sluice_dnnl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <oneapi/dnnl/dnnl_version.h>

#if DNNL_VERSION_MAJOR >= 3
struct sldnn_md_s { dnnl_memory_desc_t md; };
#define MD(p) ((p) ? (p)->md : NULL)
#else
struct sldnn_md_s { dnnl_memory_desc_t md; };
#define MD(p) ((p) ? &(p)->md : NULL)
#endif

static dnnl_data_type_t to_dt(sldnn_dtype d) {
    switch (d) {
    case SLDNN_F32: return dnnl_f32;
    case SLDNN_BF16: return dnnl_bf16;
    case SLDNN_F16: return dnnl_f16;
    case SLDNN_S8: return dnnl_s8;
    case SLDNN_U8: return dnnl_u8;
    case SLDNN_S32: return dnnl_s32;
    }
    return dnnl_data_type_undef;
}

static dnnl_format_tag_t to_tag(sldnn_layout l) {
    switch (l) {
    case SLDNN_ANY: return dnnl_format_tag_any;
    case SLDNN_A: return dnnl_a;
    case SLDNN_AB: return dnnl_ab;
    case SLDNN_ABCD: return dnnl_abcd;
    case SLDNN_ACDB: return dnnl_acdb;
    case SLDNN_ABCDE: return dnnl_abcde;
    case SLDNN_ABC: return dnnl_abc;
    }
    return dnnl_format_tag_undef;
}

static dnnl_alg_kind_t eltwise_alg(sldnn_eltwise e) {
    switch (e) {
    case SLDNN_RELU: return dnnl_eltwise_relu;
    case SLDNN_CLIP: return dnnl_eltwise_clip;
    case SLDNN_LOGISTIC: return dnnl_eltwise_logistic;
    case SLDNN_HARDSWISH: return dnnl_eltwise_hardswish;
    case SLDNN_SWISH: return dnnl_eltwise_swish;
    case SLDNN_LINEAR: return dnnl_eltwise_linear;
    }
    return dnnl_alg_kind_undef;
}

static dnnl_alg_kind_t binary_alg(sldnn_binary b) {
    switch (b) {
    case SLDNN_BINARY_ADD: return dnnl_binary_add;
    case SLDNN_BINARY_MUL: return dnnl_binary_mul;
    case SLDNN_BINARY_SUB: return dnnl_binary_sub;
    case SLDNN_BINARY_DIV: return dnnl_binary_div;
    }
    return dnnl_alg_kind_undef;
}

static dnnl_alg_kind_t pooling_alg(sldnn_pooling p) {
    switch (p) {
    case SLDNN_POOL_MAX: return dnnl_pooling_max;
    case SLDNN_POOL_AVG_INCLUDE_PADDING: return dnnl_pooling_avg_include_padding;
    case SLDNN_POOL_AVG_EXCLUDE_PADDING: return dnnl_pooling_avg_exclude_padding;
    }
    return dnnl_alg_kind_undef;
}

// ---- memory descriptors ----

dnnl_status_t sldnn_md_create(sldnn_md *out, int ndims, const int64_t *dims, sldnn_dtype dtype,
                              sldnn_layout layout) {
    *out = NULL;
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS) return dnnl_invalid_arguments;
    dnnl_dims_t d;
    for (int i = 0; i < ndims; i++) d[i] = dims[i];
    struct sldnn_md_s *md = calloc(1, sizeof *md);
    if (!md) return dnnl_out_of_memory;
#if DNNL_VERSION_MAJOR >= 3
    dnnl_status_t st = dnnl_memory_desc_create_with_tag(&md->md, ndims, d, to_dt(dtype), to_tag(layout));
#else
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&md->md, ndims, d, to_dt(dtype), to_tag(layout));
#endif
    if (st != dnnl_success) { free(md); return st; }
    *out = md;
    return dnnl_success;
}

void sldnn_md_destroy(sldnn_md md) {
    if (!md) return;
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_destroy(md->md);
#endif
    free(md);
}

size_t sldnn_md_size(const struct sldnn_md_s *md) {
    return md ? dnnl_memory_desc_get_size(MD(md)) : 0;
}

int sldnn_md_equal(const struct sldnn_md_s *lhs, const struct sldnn_md_s *rhs) {
    if (!lhs || !rhs) return lhs == rhs;
    return dnnl_memory_desc_equal(MD(lhs), MD(rhs));
}

dnnl_status_t sldnn_pd_query_md(sldnn_md *out, const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index) {
    *out = NULL;
    struct sldnn_md_s *md = calloc(1, sizeof *md);
    if (!md) return dnnl_out_of_memory;
#if DNNL_VERSION_MAJOR >= 3
    const_dnnl_memory_desc_t q = dnnl_primitive_desc_query_md(pd, what, index);
    dnnl_status_t st;
    if (q) {
        st = dnnl_memory_desc_clone(&md->md, q);
    } else {
        dnnl_dims_t zero = {0};
        st = dnnl_memory_desc_create_with_tag(&md->md, 1, zero, dnnl_f32, dnnl_a);
    }
    if (st != dnnl_success) { free(md); return st; }
#else
    const dnnl_memory_desc_t *q = dnnl_primitive_desc_query_md(pd, what, index);
    if (q) md->md = *q; // a zero struct otherwise: ndims 0, size 0
#endif
    *out = md;
    return dnnl_success;
}

dnnl_status_t sldnn_md_retype(sldnn_md *out, const struct sldnn_md_s *source, sldnn_dtype dtype) {
    *out = NULL;
#if DNNL_VERSION_MAJOR >= 3
    (void)source; (void)dtype;
    return dnnl_unimplemented;
#else
    struct sldnn_md_s *md = calloc(1, sizeof *md);
    if (!md) return dnnl_out_of_memory;
    md->md = source->md;
    md->md.data_type = to_dt(dtype);
    md->md.extra.flags = 0;
    *out = md;
    return dnnl_success;
#endif
}

int sldnn_md_dtype(const struct sldnn_md_s *md) {
    if (!md) return -1;
#if DNNL_VERSION_MAJOR >= 3
    dnnl_data_type_t dt = dnnl_data_type_undef;
    if (dnnl_memory_desc_query(md->md, dnnl_query_data_type, &dt) != dnnl_success) return -1;
#else
    dnnl_data_type_t dt = md->md.data_type;
#endif
    switch (dt) {
    case dnnl_f32: return SLDNN_F32;
    case dnnl_bf16: return SLDNN_BF16;
    case dnnl_f16: return SLDNN_F16;
    case dnnl_s8: return SLDNN_S8;
    case dnnl_u8: return SLDNN_U8;
    case dnnl_s32: return SLDNN_S32;
    default: return -1;
    }
}

void sldnn_widen_range(const float *values, size_t n, float *lo, float *hi) {
    float a = *lo, b = *hi;
    for (size_t i = 0; i < n; i++) {
        float v = values[i];
        a = v < a ? v : a;
        b = v > b ? v : b;
    }
    *lo = a;
    *hi = b;
}

void sldnn_quantize_rows(const float *weights, size_t outputs, size_t per_output, int8_t *quantized, float *scales) {
    for (size_t o = 0; o < outputs; o++) {
        const float *row = weights + o * per_output;
        float largest = 0;
        for (size_t i = 0; i < per_output; i++) largest = fmaxf(largest, fabsf(row[i]));
        float scale = largest > 0 ? 127.0f / largest : 1.0f;
        scales[o] = scale;
        for (size_t i = 0; i < per_output; i++) {
            float q = roundf(row[i] * scale);
            quantized[o * per_output + i] = (int8_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
        }
    }
}

dnnl_status_t sldnn_memory_create(dnnl_memory_t *memory, const struct sldnn_md_s *md, dnnl_engine_t engine,
                                  void *handle) {
    return dnnl_memory_create(memory, MD(md), engine, handle);
}

// ---- attributes ----

static dnnl_status_t append_post_ops(dnnl_primitive_attr_t attr, int n_post_ops, const sldnn_post_op *ops);

static dnnl_status_t create_user_scratchpad_attr(dnnl_primitive_attr_t *attr) {
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st != dnnl_success) return st;
    st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st != dnnl_success) { dnnl_primitive_attr_destroy(*attr); *attr = NULL; }
    return st;
}

dnnl_status_t sldnn_attr_create(dnnl_primitive_attr_t *attr, int n_post_ops, const sldnn_post_op *ops) {
    dnnl_status_t st = create_user_scratchpad_attr(attr);
    if (st != dnnl_success) return st;
    st = append_post_ops(*attr, n_post_ops, ops);
    if (st != dnnl_success) { dnnl_primitive_attr_destroy(*attr); *attr = NULL; }
    return st;
}

dnnl_status_t sldnn_attr_create_scaled(dnnl_primitive_attr_t *attr, int n_post_ops, const sldnn_post_op *ops,
                                       int n_scales, int mask, const float *scales) {
#if DNNL_VERSION_MAJOR >= 3
    (void)n_post_ops; (void)ops; (void)n_scales; (void)mask; (void)scales;
    *attr = NULL;
    return dnnl_unimplemented;
#else
    dnnl_status_t st = create_user_scratchpad_attr(attr);
    if (st != dnnl_success) return st;
    st = dnnl_primitive_attr_set_output_scales(*attr, n_scales, mask, scales);
    if (st == dnnl_success) st = append_post_ops(*attr, n_post_ops, ops);
    if (st != dnnl_success) { dnnl_primitive_attr_destroy(*attr); *attr = NULL; }
    return st;
#endif
}

static dnnl_status_t append_post_ops(dnnl_primitive_attr_t attr, int n_post_ops, const sldnn_post_op *ops) {
    dnnl_status_t st = dnnl_success;
    if (n_post_ops > 0) {
        dnnl_post_ops_t po;
        st = dnnl_post_ops_create(&po);
        if (st != dnnl_success) return st;
        for (int i = 0; i < n_post_ops && st == dnnl_success; i++) {
            if (ops[i].is_sum) {
                dnnl_data_type_t dt = ops[i].sum_dtype < 0 ? dnnl_data_type_undef : to_dt((sldnn_dtype)ops[i].sum_dtype);
#if DNNL_VERSION_MAJOR >= 3
                st = dnnl_post_ops_append_sum(po, ops[i].scale, 0, dt);
#else
                st = dnnl_post_ops_append_sum_v2(po, ops[i].scale, dt);
#endif
            } else {
#if DNNL_VERSION_MAJOR >= 3
                st = dnnl_post_ops_append_eltwise(po, eltwise_alg(ops[i].eltwise), ops[i].alpha, ops[i].beta);
#else
                st = dnnl_post_ops_append_eltwise(po, 1.0f, eltwise_alg(ops[i].eltwise), ops[i].alpha, ops[i].beta);
#endif
            }
        }
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_post_ops_destroy(po);
    }
    return st;
}

// ---- primitive descriptors ----

dnnl_status_t sldnn_convolution_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_conv_algorithm algorithm,
                                   const struct sldnn_md_s *src, const struct sldnn_md_s *weights,
                                   const struct sldnn_md_s *bias, const struct sldnn_md_s *dst,
                                   const int64_t strides[2], const int64_t dilates[2],
                                   const int64_t padding_l[2], const int64_t padding_r[2],
                                   const_dnnl_primitive_attr_t attr) {
    dnnl_alg_kind_t alg = algorithm == SLDNN_CONV_WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct;
    dnnl_dims_t s = {strides[0], strides[1]}, d = {dilates[0], dilates[1]};
    dnnl_dims_t pl = {padding_l[0], padding_l[1]}, pr = {padding_r[0], padding_r[1]};
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference,
        alg, MD(src), MD(weights), MD(bias), MD(dst), s, d, pl, pr, attr);
#else
    dnnl_convolution_desc_t desc;
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference,
        alg, MD(src), MD(weights), MD(bias), MD(dst), s, d, pl, pr);
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_pooling_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_pooling kind,
                               const struct sldnn_md_s *src, const struct sldnn_md_s *dst,
                               const int64_t strides[2], const int64_t kernel[2], const int64_t dilation[2],
                               const int64_t padding_l[2], const int64_t padding_r[2],
                               const_dnnl_primitive_attr_t attr) {
    dnnl_dims_t s = {strides[0], strides[1]}, k = {kernel[0], kernel[1]}, d = {dilation[0], dilation[1]};
    dnnl_dims_t pl = {padding_l[0], padding_l[1]}, pr = {padding_r[0], padding_r[1]};
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_pooling_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, pooling_alg(kind),
        MD(src), MD(dst), s, k, d, pl, pr, attr);
#else
    dnnl_pooling_v2_desc_t desc;
    dnnl_status_t st = dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, pooling_alg(kind),
        MD(src), MD(dst), s, k, d, pl, pr);
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_inner_product_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                     const struct sldnn_md_s *src, const struct sldnn_md_s *weights,
                                     const struct sldnn_md_s *bias, const struct sldnn_md_s *dst,
                                     const_dnnl_primitive_attr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_inner_product_forward_primitive_desc_create(pd, engine, dnnl_forward_inference,
        MD(src), MD(weights), MD(bias), MD(dst), attr);
#else
    dnnl_inner_product_desc_t desc;
    dnnl_status_t st = dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference,
        MD(src), MD(weights), MD(bias), MD(dst));
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_eltwise_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_eltwise kind,
                               float alpha, float beta, const struct sldnn_md_s *src,
                               const struct sldnn_md_s *dst, const_dnnl_primitive_attr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_eltwise_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, eltwise_alg(kind),
        MD(src), MD(dst), alpha, beta, attr);
#else
    if (!sldnn_md_equal(src, dst)) return dnnl_unimplemented;
    dnnl_eltwise_desc_t desc;
    dnnl_status_t st = dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, eltwise_alg(kind),
        MD(src), alpha, beta);
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, sldnn_binary kind,
                              const struct sldnn_md_s *src0, const struct sldnn_md_s *src1,
                              const struct sldnn_md_s *dst, const_dnnl_primitive_attr_t attr) {
    dnnl_alg_kind_t alg = binary_alg(kind);
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_binary_primitive_desc_create(pd, engine, alg, MD(src0), MD(src1), MD(dst), attr);
#else
    dnnl_binary_desc_t desc;
    dnnl_status_t st = dnnl_binary_desc_init(&desc, alg, MD(src0), MD(src1), MD(dst));
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_softmax_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *src,
                               const struct sldnn_md_s *dst, int axis, const_dnnl_primitive_attr_t attr) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_softmax_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_softmax_accurate,
        MD(src), MD(dst), axis, attr);
#else
    dnnl_softmax_v2_desc_t desc;
    dnnl_status_t st = dnnl_softmax_v2_forward_desc_init(&desc, dnnl_forward_inference, dnnl_softmax_accurate,
        MD(src), MD(dst), axis);
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_batch_norm_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *src,
                                  const struct sldnn_md_s *dst, float epsilon, const_dnnl_primitive_attr_t attr) {
    // The flag values differ between versions (use_scale is 0x8 in 2.x, 0x2 in 3.x): use the names.
    unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_batch_normalization_forward_primitive_desc_create(pd, engine, dnnl_forward_inference,
        MD(src), MD(dst), epsilon, flags, attr);
#else
    if (!sldnn_md_equal(src, dst)) return dnnl_unimplemented;
    dnnl_batch_normalization_desc_t desc;
    dnnl_status_t st = dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_inference, MD(src),
        epsilon, flags);
    if (st != dnnl_success) return st;
    return dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
#endif
}

dnnl_status_t sldnn_concat_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *dst,
                              int n, int axis, const struct sldnn_md_s *const *srcs, const_dnnl_primitive_attr_t attr) {
    if (n < 1 || n > 4096) return dnnl_invalid_arguments;
#if DNNL_VERSION_MAJOR >= 3
    const_dnnl_memory_desc_t *mds = calloc((size_t)n, sizeof *mds);
    if (!mds) return dnnl_out_of_memory;
    for (int i = 0; i < n; i++) mds[i] = srcs[i]->md;
    dnnl_status_t st = dnnl_concat_primitive_desc_create(pd, engine, MD(dst), n, axis, mds, attr);
#else
    dnnl_memory_desc_t *mds = calloc((size_t)n, sizeof *mds);
    if (!mds) return dnnl_out_of_memory;
    for (int i = 0; i < n; i++) mds[i] = srcs[i]->md;
    dnnl_status_t st = dnnl_concat_primitive_desc_create(pd, MD(dst), n, axis, mds, attr, engine);
#endif
    free(mds);
    return st;
}

dnnl_status_t sldnn_reorder_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, const struct sldnn_md_s *src,
                               const struct sldnn_md_s *dst, const_dnnl_primitive_attr_t attr) {
    return dnnl_reorder_primitive_desc_create(pd, MD(src), engine, MD(dst), engine, attr);
}

// ---- introspection and threads ----

const char *sldnn_pd_impl_name(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "unknown";
    return name;
}

const char *sldnn_version_string(void) {
    static char text[48];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

const char *sldnn_effective_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
#if DNNL_VERSION_MAJOR >= 3
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2_vnni_2: return "avx2_vnni_2";
    case dnnl_cpu_isa_avx512_core_fp16: return "avx512_core_fp16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_amx_fp16: return "avx512_core_amx_fp16";
#else
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
#endif
    default: return "other";
    }
}

// oneDNN's OpenMP runtime takes its thread count from the calling thread's OpenMP setting. Looked up at
// run time so that a build against a TBB or threadpool oneDNN links and runs too.
typedef void (*omp_set_fn)(int);
typedef int (*omp_get_fn)(void);

int sldnn_set_num_threads(int n) {
    omp_set_fn set = (omp_set_fn)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (!set || n < 1) return 0;
    set(n);
    return 1;
}

int sldnn_max_threads(void) {
    omp_get_fn get = (omp_get_fn)dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    return get ? get() : 0;
}
