//! Links every user program with `user.ld`, which places the program image at
//! 0x1000 with each part on its own pages, as the kernel's `exec` expects.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/user.ld");
    println!("cargo:rerun-if-changed=user.ld");
}
