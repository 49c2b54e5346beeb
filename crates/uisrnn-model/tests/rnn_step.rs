//! The core RNN reproduces the reference's outputs (../../tests/fixtures/reference/rnn_step.npz).

mod common;

use burn::tensor::Tensor;
use common::{assert_close, fixture_model, npz_array};
use uisrnn_model::HostTensor;
use uisrnn_model::score::{
    mean_times_dim, precision_weights, weighted_squared_error, weighted_squared_errors,
};

/// Relative tolerance against the reference on the CPU (burn-flex).
const CPU_REL: f32 = 1e-5;
/// On the GPU (Wgpu; lavapipe in CI): reductions run in another order.
const GPU_REL: f32 = 1e-5;

fn step(model: &uisrnn_model::UisRnn, x: &str, h: &str) -> (Vec<f32>, Vec<f32>) {
    let device = model.device().clone();
    let x = npz_array("rnn_step.npz", x);
    let h = npz_array("rnn_step.npz", h);
    let x: Tensor<2> = HostTensor {
        shape: vec![1, 256],
        data: x.data,
    }
    .to_tensor(&device);
    let h: Tensor<3> = h.to_tensor(&device);
    let (out, hidden) = model.params().core.step(x, h);
    (
        HostTensor::from_tensor(out).unwrap().data,
        HostTensor::from_tensor(hidden).unwrap().data,
    )
}

backend_tests! {
    fn one_step_from_the_initial_hidden_state(backend) {
        let model = fixture_model(&backend.device());
        let rel = backend.tolerance(CPU_REL, GPU_REL);
        let (mean, hidden) = step(&model, "x", "h0");
        assert_close("mean", &mean, &npz_array("rnn_step.npz", "mean").data, rel);
        assert_close(
            "hidden",
            &hidden,
            &npz_array("rnn_step.npz", "hidden").data,
            rel,
        );
    }

    fn one_step_from_a_random_hidden_state(backend) {
        let model = fixture_model(&backend.device());
        let rel = backend.tolerance(CPU_REL, GPU_REL);
        let (mean, hidden) = step(&model, "x", "h_rand");
        assert_close(
            "mean",
            &mean,
            &npz_array("rnn_step.npz", "mean_from_h_rand").data,
            rel,
        );
        assert_close(
            "hidden",
            &hidden,
            &npz_array("rnn_step.npz", "hidden_from_h_rand").data,
            rel,
        );
    }

    fn five_step_sequence(backend) {
        let model = fixture_model(&backend.device());
        let rel = backend.tolerance(CPU_REL, GPU_REL);
        let device = model.device().clone();
        let x: Tensor<3> = npz_array("rnn_step.npz", "x_seq").to_tensor(&device);
        let h: Tensor<3> = npz_array("rnn_step.npz", "h0").to_tensor(&device);
        let (mean, hidden) = model.params().core.forward(x, h);
        assert_close(
            "mean_seq",
            &HostTensor::from_tensor(mean).unwrap().data,
            &npz_array("rnn_step.npz", "mean_seq").data,
            rel,
        );
        assert_close(
            "hidden_seq",
            &HostTensor::from_tensor(hidden).unwrap().data,
            &npz_array("rnn_step.npz", "hidden_seq").data,
            rel,
        );
    }

    fn zero_input_step_and_weighted_mse(backend) {
        let model = fixture_model(&backend.device());
        let rel = backend.tolerance(CPU_REL, GPU_REL);
        let device = model.device().clone();
        let zeros: Tensor<2> = Tensor::zeros([1, 256], &device);
        let h: Tensor<3> = npz_array("rnn_step.npz", "h0").to_tensor(&device);
        let (mean, hidden) = model.params().core.step(zeros, h);
        let mean = HostTensor::from_tensor(mean).unwrap().data;
        assert_close(
            "zero_mean",
            &mean,
            &npz_array("rnn_step.npz", "zero_mean").data,
            rel,
        );
        assert_close(
            "zero_hidden",
            &HostTensor::from_tensor(hidden).unwrap().data,
            &npz_array("rnn_step.npz", "zero_hidden").data,
            rel,
        );

        let weights = precision_weights(&model.sigma2().unwrap());
        let target = npz_array("rnn_step.npz", "mse_target").data;
        let expected = npz_array("rnn_step.npz", "weighted_mse_zero_mean_vs_target").data[0];
        // From the reference's own zero_mean, the cost is float32-exact up to summation order.
        let exact = weighted_squared_error(
            &npz_array("rnn_step.npz", "zero_mean").data,
            &target,
            &weights,
        );
        assert_close("weighted_mse (reference mean)", &[exact], &[expected], 1e-6);
        let ours = weighted_squared_error(&mean, &target, &weights);
        assert_close("weighted_mse", &[ours], &[expected], rel);

        // The decoder's device-side version (f32 sum on the device), for two rows.
        let zero_mean = npz_array("rnn_step.npz", "zero_mean").data;
        let means = HostTensor::new(vec![2, 256], [zero_mean.clone(), zero_mean].concat())
            .unwrap()
            .to_tensor(&device);
        let row = |data: Vec<f32>| HostTensor::new(vec![1, 256], data).unwrap().to_tensor(&device);
        let sums = weighted_squared_errors(means, row(target), row(weights));
        let sums = HostTensor::from_tensor(sums).unwrap().data;
        for sum in sums {
            let device_cost = mean_times_dim(sum, 256);
            assert_close("weighted_mse (device)", &[device_cost], &[expected], 1e-6);
        }
    }
}
