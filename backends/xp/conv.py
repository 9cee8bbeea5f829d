"""conv2d and its two gradients as im2col + one GEMM per batch chunk.

Every receptive field is copied, by one ``as_strided`` view and one ``copyto``, into a column
buffer laid out so the GEMM reads it directly (no transposes of the big operand):

* forward:      out[n] = W (Cout, C*kh*kw) @ cols[n] (C*kh*kw, Ho*Wo)       -> NCHW as is
* weight grad:  dW = g (Cout, n*Ho*Wo) @ cols (C*kh*kw, n*Ho*Wo)^T           (batch folded)
* input grad:   stride 1 is a convolution of the padded gradient with the flipped, in/out
                swapped weight (the forward path again); other strides, and layers with far
                more outputs than inputs, scatter W^T @ g back with one strided add per
                kernel offset (col2im).

Small feature maps with many channels copy channels-last instead (contiguous runs of kw*C
rather than Wo; ``_channels_last``). The batch is cut into chunks whose column buffer stays
in cache (it is nine times the input for a 3x3 kernel). Every choice here was measured with
``benchmarks/perf/conv_kernels.py``. With device memory (cupy) the chunks are big: they only
bound the buffer's size.
"""
from __future__ import annotations


class Conv:

    # elements of one column buffer: 4 MiB of float32 stays in a CPU's cache; device memory
    # takes big chunks (one launch each) that still bound the buffer
    _conv_budget = None      # set to override the choice below (tests exercise chunking)

    def _chunk(self, n, per_image):
        budget = self._conv_budget or (1 << 20 if self.xp.__name__ == "numpy" else 1 << 26)
        return max(1, min(n, budget // max(per_image, 1)))

    def _padded(self, x, padding):
        """x with zero rows/cols around H and W (zeros + one interior copy: ``pad`` costs
        ~30 us of Python per call)."""
        ph, pw = padding
        if not ph and not pw:
            return x
        n, c, h, w = x.shape
        out = self.xp.zeros((n, c, h + 2 * ph, w + 2 * pw), x.dtype)
        out[:, :, ph:ph + h, pw:pw + w] = x
        return out

    def _fields(self, xpad, layout, kernel, stride, dilation, out_hw, order):
        """Strided view of every receptive field of the padded image ``xpad`` (axes named by
        ``layout``, "nchw" or "nhwc"); ``order`` names the result's axes among n, c, i, j
        (kernel offsets) and h, w (output positions)."""
        st = dict(zip(layout, xpad.strides))
        size = dict(zip(layout, xpad.shape))
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
        axes = {"n": (size["n"], st["n"]), "c": (size["c"], st["c"]),
                "i": (kh, st["h"] * dh), "j": (kw, st["w"] * dw),
                "h": (ho, st["h"] * sh), "w": (wo, st["w"] * sw)}
        return self.xp.lib.stride_tricks.as_strided(
            xpad, tuple(axes[a][0] for a in order), tuple(axes[a][1] for a in order))

    @staticmethod
    def _channels_last(c, kw, wo, groups):
        """Copy receptive fields channels-last? Its contiguous runs are kw*C long, the NCHW
        copy's only Wo: for 8x8 maps with 16 channels the copy runs 4x faster, though both
        ends then need a transpose (measured in benchmarks/perf/conv_kernels.py)."""
        return groups == 1 and c * kw > 2 * wo

    def _nhwc_cols(self, x, xn, cols, padding, kernel, stride, dilation, out_hw):
        """cols (m, Ho, Wo, kh, kw, C) <- x (m, C, H, W) through the zero-bordered
        channels-last buffer xn (m, Hp, Wp, C)."""
        ph, pw = padding
        h, w = x.shape[2:]
        xn[:, ph:ph + h, pw:pw + w, :] = x.transpose(0, 2, 3, 1)
        self.xp.copyto(cols, self._fields(xn, "nhwc", kernel, stride, dilation, out_hw,
                                          "nhwijc"))

    def _out_hw(self, shape, kernel, stride, padding, dilation):
        return tuple((shape[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) //
                     stride[a] + 1 for a in (0, 1))

    # ------------------------------------------------------------------------ forward
    def conv2d(self, x, w, stride, padding, dilation, groups):
        xp = self.xp
        n, c, h, wd = x.shape
        cout, cg, kh, kw = w.shape
        ho, wo = self._out_hw((h, wd), (kh, kw), stride, padding, dilation)
        k, hw = c * kh * kw, ho * wo
        nb = self._chunk(n, k * hw)
        if self._channels_last(c, kw, wo, groups):
            # (m*Ho*Wo, kh*kw*C) @ (kh*kw*C, Cout), then the result back to NCHW
            wm = xp.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(cout, k)
            xn = xp.zeros((nb, h + 2 * padding[0], wd + 2 * padding[1], c), x.dtype)
            buf = xp.empty((nb, ho, wo, kh, kw, c), x.dtype)
            res = xp.empty((nb * hw, cout), x.dtype)
            out = xp.empty((n, cout, ho, wo), x.dtype)
            for b0 in range(0, n, nb):
                m = min(n, b0 + nb) - b0
                self._nhwc_cols(x[b0:b0 + m], xn[:m], buf[:m], padding, (kh, kw), stride,
                                dilation, (ho, wo))
                xp.matmul(buf[:m].reshape(m * hw, k), wm.T, out=res[:m * hw])
                xp.copyto(out[b0:b0 + m], res[:m * hw].reshape(m, ho, wo, cout)
                          .transpose(0, 3, 1, 2))
            return out
        xpad = self._padded(x, padding)
        out = xp.empty((n, cout, hw), x.dtype)
        wm = w.reshape(groups, cout // groups, cg * kh * kw)
        buf = xp.empty((nb, c, kh, kw, ho, wo), x.dtype)
        for b0 in range(0, n, nb):
            m = min(n, b0 + nb) - b0
            cols = buf[:m]
            xp.copyto(cols, self._fields(xpad[b0:b0 + m], "nchw", (kh, kw), stride, dilation,
                                         (ho, wo), "ncijhw"))
            # (G, og, Kg) @ (m, G, Kg, hw) -> (m, G, og, hw), which is NCHW already
            xp.matmul(wm, cols.reshape(m, groups, k // groups, hw),
                      out=out[b0:b0 + m].reshape(m, groups, cout // groups, hw))
        return out.reshape(n, cout, ho, wo)

    # ---------------------------------------------------------------------- gradients
    def conv2d_weight_grad(self, x, grad, w_shape, stride, padding, dilation, groups):
        xp = self.xp
        n, c, h, wd = x.shape
        cout, cg, kh, kw = w_shape
        ho, wo = grad.shape[2:]
        og, kg, hw = cout // groups, cg * kh * kw, ho * wo
        nb = self._chunk(n, c * kh * kw * hw)
        gbuf = xp.empty(cout * nb * hw, x.dtype)        # cut to each chunk's size below
        out = xp.zeros((groups, og, kg), x.dtype)
        part = xp.empty((groups, og, kg), x.dtype) if nb < n else out
        last = self._channels_last(c, kw, wo, groups)
        if last:
            xn = xp.zeros((nb, h + 2 * padding[0], wd + 2 * padding[1], c), x.dtype)
            buf = xp.empty((nb, ho, wo, kh, kw, c), x.dtype)
        else:
            xpad = self._padded(x, padding)
            buf = xp.empty(c * kh * kw * nb * hw, x.dtype)
        for b0 in range(0, n, nb):
            m = min(n, b0 + nb) - b0
            gm = gbuf[:cout * m * hw].reshape(cout, m, hw)
            xp.copyto(gm, grad[b0:b0 + m].reshape(m, cout, hw).transpose(1, 0, 2))
            if last:     # (Cout, m*hw) @ (m*hw, kh*kw*C)
                self._nhwc_cols(x[b0:b0 + m], xn[:m], buf[:m], padding, (kh, kw), stride,
                                dilation, (ho, wo))
                xp.matmul(gm.reshape(1, cout, m * hw), buf[:m].reshape(1, m * hw, kg),
                          out=part)
            else:        # (G, og, m*hw) @ (G, m*hw, Kg): the batch folds into the contraction
                cols = buf[:c * kh * kw * m * hw].reshape(c, kh, kw, m, ho, wo)
                xp.copyto(cols, self._fields(xpad[b0:b0 + m], "nchw", (kh, kw), stride,
                                             dilation, (ho, wo), "cijnhw"))
                xp.matmul(gm.reshape(groups, og, m * hw),
                          cols.reshape(groups, kg, m * hw).transpose(0, 2, 1), out=part)
            if part is not out:
                out += part
        if last:
            return xp.ascontiguousarray(out.reshape(cout, kh, kw, c).transpose(0, 3, 1, 2))
        return out.reshape(w_shape)

    def conv2d_input_grad(self, grad, w, x_shape, stride, padding, dilation, groups):
        # the transposed conv copies Cout*kh*kw columns per pixel, col2im adds Cin*kh*kw:
        # the latter wins when out-channels far outnumber in-channels (first layers)
        cout, cg = w.shape[:2]
        if stride == (1, 1) and cout < 4 * cg * groups:
            return self._input_grad_as_conv(grad, w, x_shape, padding, dilation, groups)
        return self._input_grad_col2im(grad, w, x_shape, stride, padding, dilation, groups)

    def _input_grad_as_conv(self, grad, w, x_shape, padding, dilation, groups):
        """Stride 1: dx = conv(g padded by d*(k-1)-p, W flipped with in/out swapped per group)
        (a negative padding crops instead)."""
        xp = self.xp
        cout, cg, kh, kw = w.shape
        og = cout // groups
        wt = w.reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        wt = xp.ascontiguousarray(wt).reshape(groups * cg, og, kh, kw)
        eh = dilation[0] * (kh - 1) - padding[0]
        ew = dilation[1] * (kw - 1) - padding[1]
        if eh < 0 or ew < 0:
            ch, cw = max(-eh, 0), max(-ew, 0)
            grad = grad[:, :, ch:grad.shape[2] - ch, cw:grad.shape[3] - cw]
        return self.conv2d(grad, wt, (1, 1), (max(eh, 0), max(ew, 0)), dilation, groups)

    def _input_grad_col2im(self, grad, w, x_shape, stride, padding, dilation, groups):
        """dcols = W^T @ g, then each kernel offset's share added into the padded input."""
        xp = self.xp
        n, c, h, wd = x_shape
        cout, cg, kh, kw = w.shape
        ph, pw = padding
        ho, wo = grad.shape[2:]
        og, kg, hw = cout // groups, cg * kh * kw, ho * wo
        wt = w.reshape(groups, og, kg).transpose(0, 2, 1)
        dx = xp.zeros((n, c, h + 2 * ph, wd + 2 * pw), grad.dtype)
        nb = self._chunk(n, c * kh * kw * hw)
        buf = xp.empty((nb, groups, kg, hw), grad.dtype)
        for b0 in range(0, n, nb):
            b1 = min(n, b0 + nb)
            dcols = buf[:b1 - b0]
            xp.matmul(wt, grad[b0:b1].reshape(b1 - b0, groups, og, hw), out=dcols)
            dcols = dcols.reshape(b1 - b0, c, kh, kw, ho, wo)
            target = dx[b0:b1]
            for i in range(kh):
                for j in range(kw):
                    r0, c0 = i * dilation[0], j * dilation[1]
                    target[:, :, r0:r0 + stride[0] * (ho - 1) + 1:stride[0],
                           c0:c0 + stride[1] * (wo - 1) + 1:stride[1]] += dcols[:, :, i, j]
        if ph or pw:
            dx = xp.ascontiguousarray(dx[:, :, ph:ph + h, pw:pw + wd])
        return dx
