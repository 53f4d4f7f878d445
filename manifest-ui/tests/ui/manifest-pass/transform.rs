//! A transform whose messages are private to its crate (so is the transform:
//! `type In` of a public type may not name a private one): declared, built
//! and run on its own (unfused) like any server, through `Server`.
use kernel::Server as _;

mod stages {
    use kernel::prelude::*;

    #[derive(Clone)]
    pub(crate) struct Celsius(pub(crate) f64);

    pub(crate) struct Kelvin(pub(crate) f64);

    #[derive(Manifest)]
    #[manifest(class = 8, owner = "lab")]
    pub(crate) struct ToKelvin {
        pub(crate) input: Input<Celsius>,
        pub(crate) output: Output<Kelvin>,
    }

    impl Transform for ToKelvin {
        type Config = ();
        type In = Celsius;
        type Out = Kelvin;
        fn new((): ()) -> Self {
            ToKelvin { input: Input::default(), output: Output::default() }
        }
        fn process(&mut self, c: Celsius) -> Result<Option<Kelvin>, ServerError> {
            Ok((c.0 >= -273.15).then(|| Kelvin(c.0 + 273.15)))
        }
    }
}

fn main() {
    use kernel::Transform as _;
    let mut t = <stages::ToKelvin as kernel::Server>::new(());
    let k = t.process(stages::Celsius(20.0)).ok().flatten().map(|k| k.0);
    assert_eq!(k, Some(293.15));
    assert!(t.process(stages::Celsius(-300.0)).ok().flatten().is_none());
    let _ = stages::ToKelvin::__wiring_port_input();
    let _: fn(&mut stages::ToKelvin, &kernel::Context) -> Result<(), kernel::ServerError> =
        stages::ToKelvin::run;
}
