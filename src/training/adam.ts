/** Adam (Kingma & Ba) over one flat parameter buffer, updated in place. */
export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private step = 0;

  constructor(
    private readonly params: Float64Array,
    private readonly learningRate = 1e-3,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }

  update(grad: Float64Array): void {
    this.step++;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    for (let i = 0; i < this.params.length; i++) {
      this.m[i] = this.beta1 * this.m[i] + (1 - this.beta1) * grad[i];
      this.v[i] = this.beta2 * this.v[i] + (1 - this.beta2) * grad[i] * grad[i];
      this.params[i] -= (this.learningRate * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + this.epsilon);
    }
  }
}
