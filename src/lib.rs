pub use vmem;
