//! The virtual segment: per-link loss, a bounded random delay, duplication, and one partition at a
//! time. Multicast semantics: one send becomes one delivery decision per other host.

use vrrp_core::{Instant, Micros};

use crate::model::{HostId, Weather};
use crate::rng::Rng;

/// What happened to one copy-set of an advert on one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Delivered at these instants (two when duplicated).
    Arrives(Vec<Instant>),
    Lost,
    Partitioned,
}

#[derive(Debug, Clone)]
pub struct Network {
    hosts: usize,
    delay_max: Micros,
    weather: Weather,
    /// Loss per mille of each ordered link `from * hosts + to`.
    loss: Vec<u16>,
    /// Side of each host while partitioned (0 = the named side, 1 = the rest).
    sides: Option<Vec<u8>>,
}

impl Network {
    pub fn new(hosts: usize, delay_max: Micros, weather: Weather, rng: &mut Rng) -> Network {
        let mut network = Network {
            hosts,
            delay_max,
            weather: Weather::CALM,
            loss: vec![0; hosts * hosts],
            sides: None,
        };
        network.set_weather(weather, rng);
        network
    }

    pub fn weather(&self) -> Weather {
        self.weather
    }

    pub fn delay_max(&self) -> Micros {
        self.delay_max
    }

    /// New weather: every link draws its own loss in `0..=loss_permille`.
    pub fn set_weather(&mut self, weather: Weather, rng: &mut Rng) {
        self.weather = weather;
        for link in &mut self.loss {
            *link = if weather.loss_permille == 0 {
                0
            } else {
                u16::try_from(rng.below(u64::from(weather.loss_permille) + 1)).unwrap_or(0)
            };
        }
    }

    /// Cuts `side` off from the other hosts (replacing any partition).
    pub fn partition(&mut self, side: &[HostId]) {
        let mut sides = vec![1; self.hosts];
        for &host in side {
            if let Some(slot) = sides.get_mut(host) {
                *slot = 0;
            }
        }
        self.sides = Some(sides);
    }

    pub fn heal(&mut self) {
        self.sides = None;
    }

    pub fn is_partitioned(&self) -> bool {
        self.sides.is_some()
    }

    /// Which side of the partition a host is on (0 when there is none).
    pub fn side(&self, host: HostId) -> u8 {
        self.sides
            .as_ref()
            .and_then(|sides| sides.get(host).copied())
            .unwrap_or(0)
    }

    /// Decides the fate of one advert sent by `from` at `now` towards `to`. Draws from `rng` in a fixed
    /// order (loss, delay, duplicate, its delay) so runs are reproducible.
    pub fn transmit(&self, rng: &mut Rng, from: HostId, to: HostId, now: Instant) -> Fate {
        if self.side(from) != self.side(to) {
            return Fate::Partitioned;
        }
        let loss = self.loss.get(from * self.hosts + to).copied().unwrap_or(0);
        if loss > 0 && rng.chance(u64::from(loss)) {
            return Fate::Lost;
        }
        let mut arrivals = vec![now + self.delay(rng)];
        if self.weather.dup_permille > 0 && rng.chance(u64::from(self.weather.dup_permille)) {
            arrivals.push(now + self.delay(rng));
        }
        Fate::Arrives(arrivals)
    }

    fn delay(&self, rng: &mut Rng) -> Micros {
        if self.delay_max == Micros::ZERO {
            Micros::ZERO
        } else {
            Micros::from_micros(rng.below(self.delay_max.as_micros() + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_separates_sides_and_heal_joins_them() {
        let mut rng = Rng::new(1);
        let mut net = Network::new(4, Micros::ZERO, Weather::CALM, &mut rng);
        net.partition(&[0, 2]);
        assert_eq!(
            net.transmit(&mut rng, 0, 1, Instant::ZERO),
            Fate::Partitioned
        );
        assert_eq!(
            net.transmit(&mut rng, 0, 2, Instant::ZERO),
            Fate::Arrives(vec![Instant::ZERO])
        );
        net.heal();
        assert_eq!(
            net.transmit(&mut rng, 0, 1, Instant::ZERO),
            Fate::Arrives(vec![Instant::ZERO])
        );
    }

    #[test]
    fn delay_stays_within_the_maximum() {
        let mut rng = Rng::new(2);
        let max = Micros::from_micros(500);
        let weather = Weather {
            loss_permille: 0,
            dup_permille: 500,
        };
        let net = Network::new(2, max, weather, &mut rng);
        let start = Instant::from_micros(1_000);
        let mut duplicated = 0;
        for _ in 0..1_000 {
            let Fate::Arrives(times) = net.transmit(&mut rng, 0, 1, start) else {
                panic!("lossless link lost a packet");
            };
            duplicated += usize::from(times.len() == 2);
            for t in times {
                assert!(t >= start && t <= start + max);
            }
        }
        assert!((400..600).contains(&duplicated), "{duplicated}");
    }

    #[test]
    fn total_loss_loses_everything_on_a_link_that_drew_it() {
        let mut rng = Rng::new(3);
        let weather = Weather {
            loss_permille: 1000,
            dup_permille: 0,
        };
        let net = Network::new(2, Micros::ZERO, weather, &mut rng);
        let lost = (0..1000)
            .filter(|_| net.transmit(&mut rng, 0, 1, Instant::ZERO) == Fate::Lost)
            .count();
        let link_loss = u64::from(net.loss[1]);
        assert!(lost as u64 <= link_loss + 60 && lost as u64 + 60 >= link_loss);
    }
}
