// The sample-image generator is shared with the examples and the demo.
export * from "../../examples/shared/shapes.js";
