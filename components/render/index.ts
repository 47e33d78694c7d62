// Pure renderers: plain values in, file contents out. No Pulumi imports.
export {};
