//! The intent classifier: multinomial logistic regression (softmax) over the hashed features of
//! [`super::features`], trained at start from the labelled corpus in `config/nlu/`, with its
//! scores calibrated by one temperature fitted on the dev split.
//!
//! Why not `linfa-logistic`: it takes a dense `Array2<f64>`. Our features are sparse (about a
//! hundred non-zero of 131,072 per utterance); dense, the training split alone would need
//! 3,800 × 131,072 × 8 bytes ≈ 4 GB. Sparse SGD over the same objective trains in well under
//! a second and predicts in microseconds.

use super::features::{Feature, BUCKETS};
use crate::model::Intent;

/// How many classes the model tells apart: every intent of the contract.
pub const CLASSES: usize = Intent::ALL.len();

/// Training settings; the defaults were chosen on the dev split.
#[derive(Clone, Debug)]
pub struct Training {
    pub epochs: usize,
    pub learning_rate: f32,
    /// L2 penalty, applied to the weights a sample touches.
    pub l2: f32,
    pub seed: u64,
}

impl Default for Training {
    fn default() -> Self {
        Self {
            epochs: 15,
            learning_rate: 6.0,
            l2: 1e-4,
            seed: 0x5eed_2026,
        }
    }
}

/// A trained classifier.
pub struct Classifier {
    /// One row of weights per bucket, a feature's classes side by side.
    weights: Vec<Row>,
    bias: [f32; CLASSES],
    /// Divides the scores before the softmax; fitted on the dev split.
    temperature: f32,
}

/// A bucket's weights, one per class, on one cache line of their own (16 classes of 4 bytes):
/// scoring a feature reads one line, not two.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Row([f32; CLASSES]);

/// The probability of every intent, in the order of [`Intent::ALL`].
#[derive(Clone, Debug, PartialEq)]
pub struct Ranking(pub [f32; CLASSES]);

impl Ranking {
    /// The intents, most probable first.
    pub fn ranked(&self) -> Vec<(Intent, f32)> {
        let mut v: Vec<(Intent, f32)> = Intent::ALL.iter().copied().zip(self.0).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }

    pub fn best(&self) -> (Intent, f32) {
        let (i, p) =
            self.0.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
            );
        (Intent::ALL[i], p)
    }

    pub fn of(&self, intent: Intent) -> f32 {
        self.0[intent.index()]
    }
}

/// A small deterministic generator for the shuffles (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

fn softmax(z: &mut [f32; CLASSES]) {
    let max = z.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

impl Classifier {
    /// Trains on `train` and fits the temperature on `dev` (feature vectors and labels).
    pub fn train(
        train: &[(Vec<Feature>, Intent)],
        dev: &[(Vec<Feature>, Intent)],
        settings: &Training,
    ) -> Classifier {
        let mut model = Classifier {
            weights: vec![Row([0.0; CLASSES]); BUCKETS],
            bias: [0.0; CLASSES],
            temperature: 1.0,
        };
        let data: Vec<(&[Feature], usize)> = train
            .iter()
            .map(|(x, y)| (x.as_slice(), y.index()))
            .collect();
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = Rng(settings.seed | 1);
        let mut step = 0f32;
        for _ in 0..settings.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let (x, y) = &data[i];
                let lr = settings.learning_rate / (1.0 + step / data.len() as f32);
                step += 1.0;
                let mut p = model.raw_scores(x);
                softmax(&mut p);
                p[*y] -= 1.0;
                for (f, v) in x.iter() {
                    let row = &mut model.weights[*f as usize].0;
                    for (w, g) in row.iter_mut().zip(p) {
                        *w -= lr * (g * v + settings.l2 * *w);
                    }
                }
                for (b, g) in model.bias.iter_mut().zip(p) {
                    *b -= lr * g * 0.1;
                }
            }
        }
        model.temperature = model.fit_temperature(dev);
        model
    }

    fn raw_scores(&self, x: &[Feature]) -> [f32; CLASSES] {
        let mut z = self.bias;
        for (f, v) in x {
            let row = &self.weights[*f as usize].0;
            for (s, w) in z.iter_mut().zip(row) {
                *s += w * v;
            }
        }
        z
    }

    fn probabilities(&self, x: &[Feature], temperature: f32) -> [f32; CLASSES] {
        let mut z = self.raw_scores(x);
        z.iter_mut().for_each(|v| *v /= temperature);
        softmax(&mut z);
        z
    }

    /// The temperature that minimises the dev split's negative log-likelihood.
    fn fit_temperature(&self, dev: &[(Vec<Feature>, Intent)]) -> f32 {
        if dev.is_empty() {
            return 1.0;
        }
        let nll = |t: f32| -> f32 {
            dev.iter()
                .map(|(x, y)| -self.probabilities(x, t)[y.index()].max(1e-9).ln())
                .sum()
        };
        (1..=60)
            .map(|i| i as f32 * 0.05)
            .min_by(|a, b| nll(*a).total_cmp(&nll(*b)))
            .unwrap_or(1.0)
    }

    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// The calibrated probability of every intent for an utterance's features.
    pub fn rank(&self, x: &[Feature]) -> Ranking {
        if x.is_empty() {
            let mut p = [0.0; CLASSES];
            p[Intent::OutOfScope.index()] = 1.0;
            return Ranking(p);
        }
        Ranking(self.probabilities(x, self.temperature))
    }
}
