//! Face match: the dlib ResNet face-embedding model read in Rust and run through tract,
//! alignment to 150×150 chips, and a calibrated selfie-to-portrait match. (Being built: see issue 9.)
