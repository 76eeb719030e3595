// im2col / col2im on NHWC images and the Conv2D kernels built on them (im2col + GEMM), with the
// semantics of cpp/include/nnforge/im2col.h.
//
//   x  (N, H, W, C)   w  (KH, KW, C, F) = a (KH*KW*C) x F matrix   y  (N, OH, OW, F)
//   cols[(n - n0)*OH*OW + oh*OW + ow, (kh*KW + kw)*C + c] = x[n, oh*SH - pt + kh*DH, ow*SW - pl + kw*DW, c]
//
// col2im is written as a gather (each dx element sums the cols entries that read it), so it needs
// no atomics and no zero-fill, and its result does not depend on thread scheduling. Convolutions
// run over batch chunks whose im2col rows fit the workspace; a 1x1, stride-1, unpadded
// convolution (OH == H, OW == W) skips im2col and is a single GEMM.
#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

__global__ void im2col_kernel(const float* __restrict__ x, float* __restrict__ cols,
                              Conv2DShape s, int64_t n0, int64_t total) {
  NNF_GRID_LOOP(i, total) {
    int64_t t = i;
    const int64_t c = t % s.C; t /= s.C;
    const int64_t kw = t % s.KW; t /= s.KW;
    const int64_t kh = t % s.KH; t /= s.KH;
    const int64_t ow = t % s.OW; t /= s.OW;
    const int64_t oh = t % s.OH;
    const int64_t n = n0 + t / s.OH;
    const int64_t ih = oh * s.SH - s.pad_top + kh * s.DH;
    const int64_t iw = ow * s.SW - s.pad_left + kw * s.DW;
    float v = 0.f;
    if (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W) v = x[((n * s.H + ih) * s.W + iw) * s.C + c];
    cols[i] = v;  // i is exactly the row-major cols index
  }
}

// dx[n, ih, iw, c] (n in [n0, n1)) = sum over (kh, kw) with an integral, in-range (oh, ow).
__global__ void col2im_kernel(const float* __restrict__ cols, float* __restrict__ dx,
                              Conv2DShape s, int64_t n0, int64_t total) {
  const int64_t K = s.KH * s.KW * s.C;
  NNF_GRID_LOOP(i, total) {
    int64_t t = i;
    const int64_t c = t % s.C; t /= s.C;
    const int64_t iw = t % s.W; t /= s.W;
    const int64_t ih = t % s.H;
    const int64_t nl = t / s.H;  // image index within the chunk
    float acc = 0.f;
    for (int64_t kh = 0; kh < s.KH; ++kh) {
      const int64_t hh = ih + s.pad_top - kh * s.DH;
      if (hh < 0 || hh % s.SH != 0) continue;
      const int64_t oh = hh / s.SH;
      if (oh >= s.OH) continue;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t ww = iw + s.pad_left - kw * s.DW;
        if (ww < 0 || ww % s.SW != 0) continue;
        const int64_t ow = ww / s.SW;
        if (ow >= s.OW) continue;
        acc += cols[((nl * s.OH + oh) * s.OW + ow) * K + (kh * s.KW + kw) * s.C + c];
      }
    }
    dx[(n0 * s.H * s.W * s.C) + i] = acc;
  }
}

bool is_pointwise(const Conv2DShape& s) {
  return s.KH == 1 && s.KW == 1 && s.SH == 1 && s.SW == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.OH == s.H && s.OW == s.W;
}

int64_t col_bytes_per_image(const Conv2DShape& s) {
  return s.OH * s.OW * s.KH * s.KW * s.C * static_cast<int64_t>(sizeof(float));
}

// Scratch for im2col rows: the caller's workspace (from CuPy's memory pool, so an
// out-of-memory is retried after CuPy frees its cache). Nothing is allocated here.
struct Scratch {
  float* ptr = nullptr;
  int64_t images = 0;  // whole images of cols that fit
  cudaError_t init(const Conv2DShape& s, void* ws, size_t ws_bytes) {
    const int64_t per = col_bytes_per_image(s);
    if (per == 0) { images = s.N; return cudaSuccess; }
    ptr = static_cast<float*>(ws);
    images = ws == nullptr ? 0 : static_cast<int64_t>(ws_bytes) / per;
    if (images < 1) return cudaErrorInvalidValue;  // the bindings check the size first
    if (images > s.N) images = s.N;
    return cudaSuccess;
  }
};

// Runs fn(cols, n0, n1) -> cudaError_t over the batch in order, in chunks [n0, n1) of whole
// images whose im2col rows fit the workspace (cols: that scratch); stops at the first error and
// returns it.
template <class Fn>
cudaError_t for_image_chunks(const Conv2DShape& s, void* ws, size_t ws_bytes, Fn fn) {
  Scratch sc;
  NNF_CUDA_TRY(sc.init(s, ws, ws_bytes));
  for (int64_t n0 = 0; n0 < s.N; n0 += sc.images) {
    const int64_t n1 = n0 + sc.images < s.N ? n0 + sc.images : s.N;
    const cudaError_t e = fn(sc.ptr, n0, n1);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

}  // namespace

size_t conv2d_workspace_bytes(const Conv2DShape& s, size_t limit) {
  if (is_pointwise(s) || s.N == 0) return 0;
  const int64_t per = col_bytes_per_image(s);
  if (per == 0) return 0;
  int64_t images = static_cast<int64_t>(limit) / per;
  if (images < 1) images = 1;
  if (images > s.N) images = s.N;
  return static_cast<size_t>(images * per);
}

cudaError_t im2col_nhwc(const float* x, float* cols, const Conv2DShape& s, int64_t n0, int64_t n1,
                        cudaStream_t st) {
  const int64_t total = (n1 - n0) * s.OH * s.OW * s.KH * s.KW * s.C;
  if (total <= 0) return cudaSuccess;
  im2col_kernel<<<grid_for(total), kThreads, 0, st>>>(x, cols, s, n0, total);
  return last_error();
}

cudaError_t col2im_nhwc(const float* cols, float* dx, const Conv2DShape& s, int64_t n0, int64_t n1,
                        cudaStream_t st) {
  const int64_t total = (n1 - n0) * s.H * s.W * s.C;
  if (total <= 0) return cudaSuccess;
  col2im_kernel<<<grid_for(total), kThreads, 0, st>>>(cols, dx, s, n0, total);
  return last_error();
}

cudaError_t conv2d_forward(const float* x, const float* w, const float* bias, Act act, float* y,
                           const Conv2DShape& s, Precision prec, void* ws, size_t ws_bytes,
                           cudaStream_t st) {
  const int64_t K = s.KH * s.KW * s.C;
  if (s.N == 0 || s.F == 0) return cudaSuccess;
  if (is_pointwise(s))
    return sgemm(false, false, s.N * s.H * s.W, s.F, s.C, 1.f, x, s.C, w, s.F, 0.f, y, s.F, bias,
                 act, prec, st);
  const int64_t rows_per_image = s.OH * s.OW;
  return for_image_chunks(s, ws, ws_bytes, [&](float* cols, int64_t n0, int64_t n1) {
    const cudaError_t e = im2col_nhwc(x, cols, s, n0, n1, st);
    if (e != cudaSuccess) return e;
    return sgemm(false, false, (n1 - n0) * rows_per_image, s.F, K, 1.f, cols, K, w, s.F, 0.f,
                 y + n0 * rows_per_image * s.F, s.F, bias, act, prec, st);
  });
}

cudaError_t conv2d_backward_input(const float* dy, const float* w, float* dx,
                                  const Conv2DShape& s, Precision prec, void* ws,
                                  size_t ws_bytes, cudaStream_t st) {
  const int64_t K = s.KH * s.KW * s.C;
  if (s.N == 0) return cudaSuccess;
  if (is_pointwise(s))  // dx (NHW x C) = dy (NHW x F) @ w^T, w stored C x F
    return sgemm(false, true, s.N * s.H * s.W, s.C, s.F, 1.f, dy, s.F, w, s.F, 0.f, dx, s.C,
                 nullptr, Act::Linear, prec, st);
  const int64_t rows_per_image = s.OH * s.OW;
  return for_image_chunks(s, ws, ws_bytes, [&](float* dcols, int64_t n0, int64_t n1) {
    // dcols (rows x K) = dy_chunk (rows x F) @ w^T; then dx_chunk = col2im(dcols).
    const cudaError_t e = sgemm(false, true, (n1 - n0) * rows_per_image, K, s.F, 1.f,
                                dy + n0 * rows_per_image * s.F, s.F, w, s.F, 0.f, dcols, K,
                                nullptr, Act::Linear, prec, st);
    if (e != cudaSuccess) return e;
    return col2im_nhwc(dcols, dx, s, n0, n1, st);
  });
}

cudaError_t conv2d_backward_filter(const float* x, const float* dy, float* dw, float* db,
                                   const Conv2DShape& s, Precision prec, void* ws,
                                   size_t ws_bytes, cudaStream_t st) {
  const int64_t K = s.KH * s.KW * s.C;
  // db first: its partial sums may use the workspace, which im2col reuses afterwards (both are
  // ordered on the stream).
  if (db != nullptr) NNF_CUDA_TRY(bias_grad(dy, db, s.N * s.OH * s.OW, s.F, ws, ws_bytes, st));
  if (K == 0 || s.F == 0) return cudaSuccess;
  if (s.N == 0 || is_pointwise(s))  // dw (C x F) = x^T (C x NHW) @ dy (NHW x F); N == 0: zeros
    return sgemm(true, false, K, s.F, s.N * s.OH * s.OW, 1.f, x, s.C, dy, s.F, 0.f, dw, s.F,
                 nullptr, Act::Linear, prec, st);
  const int64_t rows_per_image = s.OH * s.OW;
  return for_image_chunks(s, ws, ws_bytes, [&](float* cols, int64_t n0, int64_t n1) {
    const cudaError_t e = im2col_nhwc(x, cols, s, n0, n1, st);
    if (e != cudaSuccess) return e;
    // dw (K x F) (+)= cols^T (K x rows) @ dy_chunk (rows x F), chunks in a fixed order.
    return sgemm(true, false, K, s.F, (n1 - n0) * rows_per_image, 1.f, cols, K,
                 dy + n0 * rows_per_image * s.F, s.F, n0 == 0 ? 0.f : 1.f, dw, s.F, nullptr,
                 Act::Linear, prec, st);
  });
}

}  // namespace cuda
}  // namespace nnforge
